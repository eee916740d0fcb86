using Cifar10.Runs;
using Cifar10.Training;

namespace Cifar10.Serving;

/// <summary>
/// What the server says it serves (its page and /healthz): the network, the file or folder it was loaded
/// from, the run that trained it, and the test accuracy that run recorded, when it was measured on this
/// very checkpoint (a run tests its best checkpoint, or its last without a validation split).
/// </summary>
public sealed record ServedModel(string Network, string Source, string? Run = null, double? TestAccuracy = null, bool TestTta = false)
{
    /// <summary>Describes a checkpoint folder, a run folder or an exported FILE.onnx (its checkpoint folder is the one
    /// it lies in, as <c>cifar10 export</c> writes it). <paramref name="network"/> is the network's name as the
    /// checkpoint or the ONNX metadata records it.</summary>
    public static ServedModel Of(string path, string network)
    {
        var checkpoint = path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
            ? Path.GetDirectoryName(Path.GetFullPath(path))!
            : Path.GetFullPath(Checkpoint.Locate(path));
        var run = RunFolder.Of(checkpoint);
        var results = ReadResults(run);
        bool tested = run is not null && results is not null
                      && Path.GetFullPath(Path.Combine(run.Path, results.TestCheckpoint)).TrimEnd(Path.DirectorySeparatorChar) == checkpoint.TrimEnd(Path.DirectorySeparatorChar);
        return new ServedModel(network, Path.GetFullPath(path), run?.Path, tested ? results!.TestAccuracy : null, tested && results!.TestTta);
    }

    /// <summary>A run's results are what the page shows beside the network; a damaged results.json leaves them out
    /// rather than keeping the network from being served.</summary>
    static RunResults? ReadResults(RunFolder? run)
    {
        try
        {
            return run?.ReadResults();
        }
        catch (CheckpointException)
        {
            return null;
        }
    }
}
