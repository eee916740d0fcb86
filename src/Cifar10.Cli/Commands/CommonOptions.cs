using System.CommandLine;

namespace Cifar10.Cli.Commands;

/// <summary>Options shared by several commands, defined once so they read the same everywhere.</summary>
public static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces with errors",
        Recursive = true,
    };

    public static Option<string?> Data() => new("--data")
    {
        Description = "CIFAR-10 binary data: the .tar.gz archive, a folder holding it, or the extracted folder "
                      + "(default: $CIFAR10_DATA, else ~/.cache/cifar10, downloading when absent)",
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Compute device: cpu, cuda or cuda:N (cuda needs a build with -p:TorchBackend=cuda)",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "libtorch intra-op threads (0 = one per core)",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> Checkpoint() => new("--checkpoint", "-c")
    {
        Description = "A run folder (uses its best checkpoint) or a checkpoint folder",
        Required = true,
    };

    public static Option<bool> Tta() => new("--tta")
    {
        Description = "Test-time augmentation: average the predictions over each image, its mirror and one-pixel shifts of both (6 views)",
    };
}
