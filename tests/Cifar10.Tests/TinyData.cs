using Cifar10.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Tests;

/// <summary>Small in-memory data sets whose labels are learnable (each class has its own
/// brightness pattern), for tests of training that must run in seconds.</summary>
public static class TinyData
{
    public static readonly string[] ClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public static ImageDataset Make(int count, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var labels = torch.randint(0, 10, [count], generator: generator, dtype: int64);
        var noise = torch.randint(0, 60, [count, 3, 32, 32], generator: generator, dtype: int64);
        // Class c lights up channel c % 3 in rows proportional to c: easy for a conv net to find.
        var rows = torch.arange(32, dtype: int64).view(1, 1, 32, 1);
        var band = (rows >= labels.view(-1, 1, 1, 1) * 3) & (rows < labels.view(-1, 1, 1, 1) * 3 + 4);
        var channel = torch.arange(3, dtype: int64).view(1, 3, 1, 1).eq((labels % 3).view(-1, 1, 1, 1));
        var images = (noise + (band & channel).to(int64) * 180).clamp(0, 255).to(uint8);
        var dataset = new ImageDataset(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), ClassNames);
        return dataset;
    }
}
