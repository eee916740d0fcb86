using Cifar10.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Tests.Data;

static class InMemoryData
{
    /// <summary>
    /// A dataset whose label is the example's index (so tests can track examples through splits
    /// and batches) and whose every pixel of image i is i % 256.
    /// </summary>
    public static ImageDataset Indexed(int count)
    {
        using var scope = NewDisposeScope();
        var ids = arange(count, dtype: ScalarType.Int64);
        var images = ids.remainder(256).to_type(ScalarType.Byte).view(count, 1, 1, 1).expand(count, 3, 32, 32).contiguous();
        return new ImageDataset(images, ids, SyntheticCifar.ClassNames);
    }

    /// <summary>Random uint8 images [n,3,h,w] with values in [low, high).</summary>
    public static Tensor RandomImages(int n, long seed, int low = 0, int height = 32, int width = 32, int high = 256)
    {
        using var generator = new Generator((ulong)seed);
        return randint(low, high, [n, 3, height, width], dtype: ScalarType.Byte, generator: generator);
    }

    public static long[] Ids(ImageDataset dataset) => dataset.Labels.data<long>().ToArray();
}
