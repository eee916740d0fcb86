using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>
/// One split of a data set held in memory as two tensors: <see cref="Images"/> (uint8 [N,3,32,32])
/// and <see cref="Labels"/> (int64 [N]). Keeping the images as uint8 is 4× smaller than float32
/// and lets augmentation run on bytes; normalisation happens per batch
/// (see <see cref="Normalization"/>).
/// </summary>
/// <remarks>
/// The dataset owns its tensors: the constructor detaches them from any dispose scope so they
/// live exactly as long as the dataset, and <see cref="Dispose"/> frees them. Every method that
/// returns a dataset returns a new one that must be disposed separately.
/// </remarks>
public sealed class ImageDataset : IDisposable
{
    /// <summary>Colour channels of every image: red, green, blue.</summary>
    public const int Channels = 3;
    /// <summary>The side of every image in pixels.</summary>
    public const int ImageSize = 32;
    /// <summary>The bytes of one image: 3×32×32, channel by channel (the layout <see cref="Images"/> holds and <see cref="ImageFile.Decode"/> returns).</summary>
    public const int ImageBytes = Channels * ImageSize * ImageSize;

    /// <summary>The images, uint8 [N,3,32,32], owned by this dataset.</summary>
    public Tensor Images { get; }
    /// <summary>The class of each image, int64 [N], indexing <see cref="ClassNames"/>.</summary>
    public Tensor Labels { get; }
    /// <summary>The class names, in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The number of images.</summary>
    public int Count => (int)Labels.shape[0];
    /// <summary>The device the tensors are on.</summary>
    public Device Device => Images.device;

    /// <summary>Takes ownership of <paramref name="images"/> and <paramref name="labels"/>.</summary>
    public ImageDataset(Tensor images, Tensor labels, IReadOnlyList<string> classNames)
    {
        if (images.dtype != ScalarType.Byte || images.ndim != 4 || images.shape[1] != Channels)
            throw new ArgumentException($"images must be uint8 [N,{Channels},H,W], got {images.dtype} [{string.Join(",", images.shape)}]", nameof(images));
        if (labels.dtype != ScalarType.Int64 || labels.ndim != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"labels must be int64 [{images.shape[0]}], got {labels.dtype} [{string.Join(",", labels.shape)}]", nameof(labels));
        Images = images.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        ClassNames = classNames.ToArray();
    }

    /// <summary>The images and labels at <paramref name="indices"/> (int64, any device), copied.</summary>
    public ImageDataset Subset(Tensor indices)
    {
        using var scope = NewDisposeScope();
        var onDevice = indices.to(Images.device);
        return new ImageDataset(Images.index_select(0, onDevice), Labels.index_select(0, onDevice), ClassNames);
    }

    /// <summary>The first <paramref name="count"/> examples (e.g. for quick smoke runs).</summary>
    public ImageDataset Take(int count)
    {
        if (count < 0 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"must be between 0 and {Count}");
        // narrow() makes views; libtorch reference-counts the storage, so disposing this dataset
        // while the new one lives (or the other way round) is safe.
        return new ImageDataset(Images.narrow(0, 0, count), Labels.narrow(0, 0, count), ClassNames);
    }

    /// <summary>
    /// This dataset on <paramref name="device"/> (e.g. the whole split on the GPU). On the device it is
    /// already on, the new dataset shares the storage (new tensor handles, no copy): the data set is held
    /// once, and either dataset may be disposed first.
    /// </summary>
    public ImageDataset To(Device device) =>
        device.type == Device.type && device.index == Device.index
            ? new(Images.alias(), Labels.alias(), ClassNames)
            : new(Images.to(device, copy: true), Labels.to(device, copy: true), ClassNames);

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }

    /// <summary>The count and device, e.g. "ImageDataset(50000 images on cpu)".</summary>
    public override string ToString() => $"ImageDataset({Count} images on {Device})";
}
