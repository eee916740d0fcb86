using static TorchSharp.torch;

namespace Cifar10.Models;

// What a network needs beyond its layers, declared by the network itself: the trainer, the
// learning-rate finder and checkpoint loading look for these and know no network by name.

/// <summary>A network part of whose initialisation looks at the training data (airbench's whitening filters).</summary>
public interface IDataInitialized
{
    /// <summary>How many of the first training images <see cref="InitializeFromData"/> wants.</summary>
    int InitializationImages { get; }

    /// <summary>Called once before training starts (not on resume), with normalised images [N,3,H,W].</summary>
    void InitializeFromData(Tensor normalizedImages);
}

/// <summary>A network that changes between epochs (airbench trains its whitening bias only at first).</summary>
public interface IEpochAware
{
    /// <summary>Called before each training epoch (1-based) of <paramref name="epochs"/>, also after a resume.</summary>
    void EpochStarting(int epoch, int epochs);
}

/// <summary>A network that takes images of any side from <see cref="SmallestImage"/> on (its head sees a global pool),
/// so it can train on downscaled images (progressive resizing, <c>--low-res</c>).</summary>
public interface IAnyImageSize
{
    /// <summary>The smallest image side in pixels the network can take.</summary>
    int SmallestImage { get; }
}

/// <summary>A network that can run its convolutions in bfloat16 while its weights stay float32.</summary>
public interface IMixedPrecision
{
    /// <summary>Float32 or BFloat16.</summary>
    ScalarType ComputeType { get; set; }
}
