using Cifar10.Reporting;
using Cifar10.Runtime;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>What config.json holds: the settings, the exact data, and the software and machine.</summary>
public sealed record RunManifest
{
    public string Name { get; init; } = "";
    public TrainConfig Config { get; init; } = new();
    public string DataFolder { get; init; } = "";
    public string DataSha256 { get; init; } = "";
    public Dictionary<string, string> DataFiles { get; init; } = [];
    public EnvironmentInfo? Environment { get; init; }
    public string CommandLine { get; init; } = "";
    /// <summary>The PyTorch state_dict the run started from (train --init-from), and its SHA-256; null for a fresh start.</summary>
    public string? InitFrom { get; init; }
    public string? InitFromSha256 { get; init; }
    /// <summary>A run on several MPI processes: their number, the MPI library, each one's host and threads; null for one process.</summary>
    public Distributed.DistributedInfo? Distributed { get; init; }
    public DateTimeOffset Created { get; init; }
}

/// <summary>What results.json holds once training has ended.</summary>
public sealed record RunResults
{
    public int EpochsCompleted { get; init; }
    public double BestValAccuracy { get; init; } = double.NaN;
    public int BestEpoch { get; init; }
    public double TestAccuracy { get; init; }
    public double TestLoss { get; init; }
    public string TestCheckpoint { get; init; } = "";
    /// <summary>Whether the test accuracy was measured with test-time augmentation.</summary>
    public bool TestTta { get; init; }
    /// <summary>Why training stopped before its last epoch (early stopping), or null.</summary>
    public string? StopReason { get; init; }
    /// <summary>The epochs (training and validation).</summary>
    public double TrainSeconds { get; init; }
    /// <summary>The final test evaluation (test-time augmentation included).</summary>
    public double TestSeconds { get; init; }
    /// <summary>Writing report.html and its plots.</summary>
    public double ReportSeconds { get; init; }
    /// <summary>From the start of the run to results.json: the rest is set-up (data, network, data-dependent initialisation).</summary>
    public double TotalSeconds { get; init; }
    public DateTimeOffset Finished { get; init; }
}

/// <summary>
/// The folder of one run (runs/NAME by default) and the files in it. A folder that already holds
/// anything is never reused unless the caller asks to resume it, or to replace it with
/// <c>--force</c>, which only ever replaces a run folder of this tool (or an empty folder), and
/// moves the old run aside until the new one has written its first checkpoint.
/// </summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.csv";
    public const string LearningRateFile = "lr.csv";
    public const string ResultsFile = "results.json";
    public const string TensorBoardFolder = "tensorboard";
    public const string LastCheckpoint = Checkpoint.LastName;
    public const string BestCheckpoint = Checkpoint.BestName;

    string? replaced;
    CreatedFolders? created;

    public string Path { get; }

    RunFolder(string path) => Path = path;

    public string File(string name) => System.IO.Path.Combine(Path, name);
    public string Last => File(LastCheckpoint);
    public string Best => File(BestCheckpoint);

    /// <summary>Where the run being replaced waits until <see cref="CommitReplacement"/>; null when none is.</summary>
    public string? ReplacedRun => replaced;

    /// <summary>
    /// Makes a new run folder. An existing non-empty folder is an error unless <paramref name="replace"/>
    /// and it is a run folder of this tool (<see cref="CheckReplaceable"/>): then it is moved aside to a
    /// hidden sibling, to be deleted by <see cref="CommitReplacement"/> or put back by <see cref="RollBackReplacement"/>.
    /// Call this only once data, network and settings have been validated.
    /// </summary>
    public static RunFolder Create(string path, bool replace)
    {
        var run = new RunFolder(path);
        if (CheckCanCreate(path, replace))
        {
            var full = System.IO.Path.GetFullPath(path).TrimEnd(System.IO.Path.DirectorySeparatorChar);
            run.replaced = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, $".{System.IO.Path.GetFileName(full)}.replaced-{Guid.NewGuid():N}");
            Directory.Move(full, run.replaced);
        }
        run.created = CreatedFolders.For(path);
        return run;
    }

    /// <summary>
    /// Throws the <see cref="ConfigException"/> <see cref="Create"/> would throw, without changing anything,
    /// so a command can refuse a folder before it spends time on the data. True when a run would be replaced.
    /// </summary>
    public static bool CheckCanCreate(string path, bool replace)
    {
        if (!Directory.Exists(path) || !Directory.EnumerateFileSystemEntries(path).Any()) return false;
        if (!replace)
            throw new ConfigException($"run folder {path} already exists; pass --force to replace it or --resume {path} to continue it");
        CheckReplaceable(path);
        return true;
    }

    /// <summary>
    /// What proves a folder is a run of this tool that --force may replace: its config.json is a whole
    /// run record as this tool writes it (a name, the data's SHA-256, a creation time: any config.json
    /// of this tool, old ones included), and it holds nothing but the files this tool writes into a run
    /// (<see cref="RunFileSet"/>). Anything else is refused, naming the folder and what is in the way.
    /// </summary>
    public static void CheckReplaceable(string path)
    {
        if (!IsRunFolder(path))
            throw new ConfigException($"{path} is not a run folder of this tool (no {ConfigFile} written by it), so --force will not replace it; choose another --out");
        var foreign = RunFileSet.Foreign(path);
        if (foreign.Count > 0)
            throw new ConfigException($"run folder {path} also holds what this tool did not write there ({string.Join(", ", foreign.Take(3))}"
                                      + (foreign.Count > 3 ? $" and {foreign.Count - 3} more" : "") + "), so --force will not replace it; move that out, or choose another --out");
    }

    /// <summary>Whether <paramref name="path"/> holds a config.json this tool wrote: a whole run record, not just any JSON object.</summary>
    public static bool IsRunFolder(string path)
    {
        try
        {
            var manifest = new RunFolder(path).ReadManifest();
            return manifest.Name.Length > 0 && manifest.DataSha256.Length > 0 && manifest.Created != default;
        }
        catch (CheckpointException)
        {
            return false;
        }
    }

    /// <summary>The new run has its first checkpoint: the run it replaced is deleted.</summary>
    public void CommitReplacement()
    {
        if (replaced is null) return;
        Directory.Delete(replaced, recursive: true);
        replaced = null;
    }

    /// <summary>The new run failed before its first checkpoint: it is removed and the run it replaced put back.</summary>
    public void RollBackReplacement()
    {
        if (replaced is null) return;
        Directory.Delete(Path, recursive: true);
        Directory.Move(replaced, Path);
        replaced = null;
    }

    /// <summary>
    /// A new run that failed before its first checkpoint holds nothing worth keeping: its files go, and
    /// so does the folder if this run created it. Should anything else have been put into it meanwhile,
    /// the folder is left as it is.
    /// </summary>
    public void RemoveNew()
    {
        if (!Directory.Exists(Path) || RunFileSet.Foreign(Path).Count > 0) return;
        foreach (var entry in new DirectoryInfo(Path).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo folder) folder.Delete(recursive: true);
            else entry.Delete();
        }
        created?.Dispose();
    }

    /// <summary>The run a checkpoint belongs to (the run folder itself, or the folder holding a checkpoint folder), or null.</summary>
    public static RunFolder? Of(string checkpoint)
    {
        var full = System.IO.Path.GetFullPath(checkpoint).TrimEnd(System.IO.Path.DirectorySeparatorChar);
        foreach (var candidate in new[] { full, System.IO.Path.GetDirectoryName(full) })
            if (candidate is not null && System.IO.File.Exists(System.IO.Path.Combine(candidate, ConfigFile))) return new RunFolder(candidate);
        return null;
    }

    public static RunFolder Open(string path)
    {
        if (!System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile)))
            throw new CheckpointException($"{path} is not a run folder: it has no {ConfigFile}");
        return new RunFolder(path);
    }

    public static string DefaultPath(string model) =>
        System.IO.Path.Combine("runs", $"{model}-{DateTime.Now:yyyyMMdd-HHmmss}");

    public void WriteManifest(RunManifest manifest) => AtomicFile.WriteJson(File(ConfigFile), manifest);

    public RunManifest ReadManifest() => JsonFiles.Read<RunManifest>(File(ConfigFile), message => new CheckpointException(message));

    public void WriteResults(RunResults results) => AtomicFile.WriteJson(File(ResultsFile), results);

    public RunResults? ReadResults() =>
        System.IO.File.Exists(File(ResultsFile)) ? JsonFiles.Read<RunResults>(File(ResultsFile), message => new CheckpointException(message)) : null;

    public bool IsFinished => System.IO.File.Exists(File(ResultsFile));

    public IReadOnlyList<EpochMetrics> ReadMetrics() =>
        System.IO.File.Exists(File(MetricsFile)) ? ReadLog(() => MetricsCsv.Read(File(MetricsFile))) : [];

    public IReadOnlyList<(long Step, double LearningRate)> ReadLearningRates() =>
        System.IO.File.Exists(File(LearningRateFile)) ? ReadLog(() => LearningRateCsv.Read(File(LearningRateFile))) : [];

    /// <summary>The checkpoint the test set is measured with: the best by validation accuracy when the run
    /// has a validation set (recovered if a kill left it mid-swap), else the last.</summary>
    public string TestCheckpoint(TrainConfig config) => config.HasValidation && Checkpoint.Recover(Best) ? Best : Last;

    /// <summary>Drops log rows past the epoch a resumed run restarts from, so that the redone
    /// epochs are not recorded twice.</summary>
    internal void TruncateLogs(int completedEpochs, long completedSteps)
    {
        if (System.IO.File.Exists(File(MetricsFile)))
            MetricsCsv.Write(File(MetricsFile), ReadMetrics().Where(m => m.Epoch <= completedEpochs));
        if (System.IO.File.Exists(File(LearningRateFile)))
            LearningRateCsv.Write(File(LearningRateFile), ReadLearningRates().Where(p => p.Step < completedSteps));
    }

    static T ReadLog<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (FormatException e)
        {
            throw new CheckpointException(e.Message); // the message names the file and line
        }
    }
}
