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

    // Worded as the training settings of the same names.
    public static Option<string> Device() => new("--device")
    {
        Description = Training.TrainSettings.Get("device").Help,
        DefaultValueFactory = _ => Training.Recipes.Classic.Defaults.Device,
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = Training.TrainSettings.Get("threads").Help,
        DefaultValueFactory = _ => Training.Recipes.Classic.Defaults.Threads,
    };

    /// <summary>--checkpoint of the commands that run a network (predict, eval, serve): folders, or an exported ONNX model.</summary>
    public const string CheckpointOrOnnx = "A run folder (uses its best checkpoint), a checkpoint folder, or an exported FILE.onnx (run on ONNX Runtime)";

    /// <summary>--checkpoint, required; <paramref name="acceptsOnnx"/> for the commands that run an exported ONNX model too.</summary>
    public static Option<string> Checkpoint(bool acceptsOnnx = false) => new("--checkpoint", "-c")
    {
        Description = acceptsOnnx ? CheckpointOrOnnx : "A run folder (uses its best checkpoint) or a checkpoint folder",
        Required = true,
    };

    public static Option<bool> Tta() => new("--tta")
    {
        Description = "Test-time augmentation: average the predictions over each image, its mirror and one-pixel shifts of both (6 views)",
    };
}
