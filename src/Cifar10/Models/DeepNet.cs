// deep — eight unpadded 3×3 convolutions and a five-layer classifier.
// Source: the "deeper CNN" step of the CIFAR-10 write-up this toolkit reproduces
//         (BatchNorm without affine parameters after conv1, conv5 and fc1);
//         PyTorch peer: bench/pytorch/models.py DeepNet.
// Reported accuracy: 69% on the CIFAR-10 test set.
// Parameters (10 classes): 453,242.
using Cifar10.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// conv 3→20→24→32→40, max-pool 2, conv →48→56→64→72 (all 3×3, no padding: 32→30→28→26→24, pool 12, →10→8→6→4),
/// then FC 1152→256 (BatchNorm1d, dropout), →64, →32 (dropout), →16, →classes.
/// </summary>
public sealed class DeepNet : Module<Tensor, Tensor>, IMixedPrecision, IOnnxExportable
{
    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    /// <summary>The dropout after the first fully connected layer, as the write-up has it.</summary>
    public const double DefaultDropout1 = 0.3;
    /// <summary>The dropout after the third fully connected layer.</summary>
    public const double DefaultDropout2 = 0.1;

    // 72 channels on the 4×4 map the eight unpadded convolutions and one pool leave.
    private const int FlatFeatures = 72 * 4 * 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Conv2d conv4;
    private readonly MaxPool2d pool;
    private readonly Conv2d conv5;
    private readonly BatchNorm2d bn5;
    private readonly Conv2d conv6;
    private readonly Conv2d conv7;
    private readonly Conv2d conv8;
    private readonly Linear fc1;
    private readonly BatchNorm1d bn_fc1;
    private readonly Dropout drop1;
    private readonly Linear fc2;
    private readonly Linear fc3;
    private readonly Dropout drop2;
    private readonly Linear fc4;
    private readonly Linear fc5;

    /// <summary>The network, freshly initialised (from the global random state: seed it first for a reproducible start).</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    /// <param name="dropout1">Dropout after fc1 (default 0.3).</param>
    /// <param name="dropout2">Dropout after fc3 (default 0.1).</param>
    public DeepNet(int numClasses = 10, double dropout1 = DefaultDropout1, double dropout2 = DefaultDropout2)
        : base(nameof(DeepNet))
    {
        ModelGuards.RequireClasses(numClasses);
        ModelGuards.RequireDropout(dropout1, nameof(dropout1));
        ModelGuards.RequireDropout(dropout2, nameof(dropout2));

        conv1 = Conv2d(3, 20, kernel_size: 3);
        // affine: false — the write-up normalises only; scale and shift are left to the next conv.
        bn1 = BatchNorm2d(20, affine: false);
        conv2 = Conv2d(20, 24, kernel_size: 3);
        conv3 = Conv2d(24, 32, kernel_size: 3);
        conv4 = Conv2d(32, 40, kernel_size: 3);
        pool = MaxPool2d(kernel_size: 2);
        conv5 = Conv2d(40, 48, kernel_size: 3);
        bn5 = BatchNorm2d(48, affine: false);
        conv6 = Conv2d(48, 56, kernel_size: 3);
        conv7 = Conv2d(56, 64, kernel_size: 3);
        conv8 = Conv2d(64, 72, kernel_size: 3);
        fc1 = Linear(FlatFeatures, 256);
        bn_fc1 = BatchNorm1d(256, affine: false);
        drop1 = Dropout(dropout1);
        fc2 = Linear(256, 64);
        fc3 = Linear(64, 32);
        drop2 = Dropout(dropout2);
        fc4 = Linear(32, 16);
        fc5 = Linear(16, numClasses);

        RegisterComponents();
    }

    /// <summary>Logits [N, classes] of images [N,3,32,32] normalised with their training statistics.</summary>
    public override Tensor forward(Tensor input)
    {
        // NHWC: with its 20, 24 and 40 channels the network would otherwise read stale memory in libtorch's NCHW convolutions.
        var x = conv1.call(MemoryFormat.ChannelsLast(input));
        x = bn1.call(x);
        x = functional.relu(x);
        x = conv2.call(x);
        x = functional.relu(x);
        x = conv3.call(x);
        x = functional.relu(x);
        x = conv4.call(x);
        x = functional.relu(x);
        x = pool.call(x);

        x = conv5.call(x);
        x = bn5.call(x);
        x = functional.relu(x);
        x = conv6.call(x);
        x = functional.relu(x);
        x = conv7.call(x);
        x = functional.relu(x);
        x = conv8.call(x);
        x = functional.relu(x);

        x = x.flatten(1);
        x = fc1.call(x);
        x = bn_fc1.call(x);
        x = functional.relu(x);
        x = drop1.call(x);
        x = fc2.call(x);
        x = functional.relu(x);
        x = fc3.call(x);
        x = functional.relu(x);
        x = drop2.call(x);
        x = fc4.call(x);
        x = functional.relu(x);
        return fc5.call(x);
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        x = g.Relu(g.Module(bn1, g.Module(conv1, x)));
        foreach (var conv in new[] { conv2, conv3, conv4 }) x = g.Relu(g.Module(conv, x));
        x = g.Module(pool, x);
        x = g.Relu(g.Module(bn5, g.Module(conv5, x)));
        foreach (var conv in new[] { conv6, conv7, conv8 }) x = g.Relu(g.Module(conv, x));
        x = g.Relu(g.Module(bn_fc1, g.Module(fc1, g.Flatten(x)))); // dropout: identity in eval mode
        x = g.Relu(g.Module(fc2, x));
        x = g.Relu(g.Module(fc3, x));
        x = g.Relu(g.Module(fc4, x));
        return g.Module(fc5, x);
    }
}
