using Cifar10.Export;
using Cifar10.Reporting;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>
/// Every name this tool writes into a run folder, and where: the run's records and report at the top,
/// the checkpoint folders (with the exports `export` puts beside the weights by default), the
/// TensorBoard events, and the folders `eval` writes by default. `train --force` replaces a folder
/// only when it holds nothing else, so that a user's file is never deleted with a run.
/// </summary>
internal static class RunFileSet
{
    /// <summary>The files at the top of a run folder: what <see cref="RunFolder"/> records, and the report.</summary>
    public static readonly IReadOnlySet<string> TopFiles = new HashSet<string>(
        [RunFolder.ConfigFile, RunFolder.MetricsFile, RunFolder.LearningRateFile, RunFolder.ResultsFile, TestPredictions.FileName, .. RunReport.FileNames]);

    /// <summary>The files a checkpoint reads back: an output never replaces one of them, even with --force.</summary>
    public static readonly IReadOnlySet<string> CheckpointFiles = new HashSet<string>([Checkpoint.ModelFile, Checkpoint.OptimizerFile, Checkpoint.StateFile]);

    static readonly IReadOnlySet<string> CheckpointFolderFiles = new HashSet<string>(
        [.. CheckpointFiles, ModelExport.DefaultFileName(ExportFormat.Pt), ModelExport.DefaultFileName(ExportFormat.Onnx)]);

    static readonly string[] CheckpointFolders = [.. new[] { RunFolder.BestCheckpoint, RunFolder.LastCheckpoint }
        .SelectMany(name => new[] { name, name + Checkpoint.Writing, name + Checkpoint.Previous })];

    static readonly string[] EvaluationFolders = [.. new[] { RunFolder.BestCheckpoint, RunFolder.LastCheckpoint }
        .SelectMany(name => new[] { EvaluationFiles.DefaultFolderName(name, tta: false), EvaluationFiles.DefaultFolderName(name, tta: true) })];

    const string TensorBoardEvents = "events.out.tfevents.";

    /// <summary>
    /// The entries of <paramref name="folder"/> (relative paths) that are not a run's own: any name
    /// the tool does not write there, a link, or an entry of a folder the tool does not write.
    /// </summary>
    public static IReadOnlyList<string> Foreign(string folder)
    {
        var foreign = new List<string>();
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
                foreign.Add(entry.Name);
            else if (entry is FileInfo)
            {
                if (!TopFiles.Contains(entry.Name) && !AtomicFile.IsTemporary(entry.Name)) foreign.Add(entry.Name);
            }
            else if (OwnFilesOf(entry.Name) is { } owns)
                foreign.AddRange(ForeignIn((DirectoryInfo)entry, owns).Select(name => Path.Combine(entry.Name, name)));
            else
                foreign.Add(entry.Name + Path.DirectorySeparatorChar);
        }
        return foreign;
    }

    /// <summary>Which files the tool writes in a subfolder of a run, or null when it writes no such subfolder.</summary>
    static Func<string, bool>? OwnFilesOf(string subfolder)
    {
        if (CheckpointFolders.Contains(subfolder)) return CheckpointFolderFiles.Contains;
        if (EvaluationFolders.Contains(subfolder)) return EvaluationFiles.FileNames.Contains;
        if (subfolder == RunFolder.TensorBoardFolder) return name => name.StartsWith(TensorBoardEvents, StringComparison.Ordinal);
        return null;
    }

    static IEnumerable<string> ForeignIn(DirectoryInfo folder, Func<string, bool> owns) =>
        folder.EnumerateFileSystemInfos()
            .Where(entry => entry.LinkTarget is not null || entry is not FileInfo || !(owns(entry.Name) || AtomicFile.IsTemporary(entry.Name)))
            .Select(entry => entry is FileInfo ? entry.Name : entry.Name + Path.DirectorySeparatorChar);
}
