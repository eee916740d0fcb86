using Cifar10.Reporting;
using Cifar10.Runtime;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>What config.json holds: the settings, the exact data, and the software and machine.</summary>
public sealed record RunManifest
{
    /// <summary>The run's name: its folder's name.</summary>
    public string Name { get; init; } = "";
    /// <summary>Every setting of the run, as resolved (<c>auto</c> precision already made fp32 or bf16).</summary>
    public TrainConfig Config { get; init; } = new();
    /// <summary>The folder the data was read from.</summary>
    public string DataFolder { get; init; } = "";
    /// <summary>One SHA-256 over the data's files (<see cref="Data.DataFingerprint.CombinedSha256"/>): the exact data the run trained on.</summary>
    public string DataSha256 { get; init; } = "";
    /// <summary>Each data file's name and SHA-256.</summary>
    public Dictionary<string, string> DataFiles { get; init; } = [];
    /// <summary>The toolkit, TorchSharp, libtorch and .NET versions, and the machine (CPU, cores, threads, memory set-up).</summary>
    public EnvironmentInfo? Environment { get; init; }
    /// <summary>The command line that started the run, for the record.</summary>
    public string CommandLine { get; init; } = "";
    /// <summary>The PyTorch state_dict the run started from (train --init-from), and its SHA-256; null for a fresh start.</summary>
    public string? InitFrom { get; init; }
    /// <summary>The SHA-256 of <see cref="InitFrom"/>.</summary>
    public string? InitFromSha256 { get; init; }
    /// <summary>A run on several MPI processes: their number, the MPI library, each one's host and threads; null for one process.</summary>
    public Distributed.DistributedInfo? Distributed { get; init; }
    /// <summary>When the run folder was made.</summary>
    public DateTimeOffset Created { get; init; }
}

/// <summary>What results.json holds once training has ended.</summary>
public sealed record RunResults
{
    /// <summary>The epochs trained (fewer than the settings say when training stopped early).</summary>
    public int EpochsCompleted { get; init; }
    /// <summary>The best validation accuracy, 0 to 1; NaN (null in the file) without a validation set.</summary>
    public double BestValAccuracy { get; init; } = double.NaN;
    /// <summary>The epoch that reached it: the epoch of the <c>best/</c> checkpoint.</summary>
    public int BestEpoch { get; init; }
    /// <summary>The test accuracy, 0 to 1, of <see cref="TestCheckpoint"/>.</summary>
    public double TestAccuracy { get; init; }
    /// <summary>The test loss (mean cross-entropy).</summary>
    public double TestLoss { get; init; }
    /// <summary>The checkpoint the test set was measured with: best, or last for a run without a validation set.</summary>
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
    /// <summary>When results.json was written.</summary>
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
    /// <summary>The run's record (<see cref="RunManifest"/>), written before training starts.</summary>
    public const string ConfigFile = "config.json";
    /// <summary>One row per epoch: losses, accuracies, time, throughput, memory.</summary>
    public const string MetricsFile = "metrics.csv";
    /// <summary>The learning rate of every step.</summary>
    public const string LearningRateFile = "lr.csv";
    /// <summary>The outcome (<see cref="RunResults"/>), written last: a folder with it is a finished run.</summary>
    public const string ResultsFile = "results.json";
    /// <summary>TensorBoard's event files of the run.</summary>
    public const string TensorBoardFolder = "tensorboard";
    /// <summary>The checkpoint of the last epoch, from which a run resumes.</summary>
    public const string LastCheckpoint = Checkpoint.LastName;
    /// <summary>The checkpoint of the epoch with the best validation accuracy.</summary>
    public const string BestCheckpoint = Checkpoint.BestName;

    string? replaced;
    CreatedFolders? created;

    /// <summary>The run folder, as given.</summary>
    public string Path { get; }

    RunFolder(string path) => Path = path;

    /// <summary>The path of <paramref name="name"/> (a file or folder of the run, e.g. <see cref="MetricsFile"/>) in the run folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);
    /// <summary>The path of the <c>last/</c> checkpoint.</summary>
    public string Last => File(LastCheckpoint);
    /// <summary>The path of the <c>best/</c> checkpoint.</summary>
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
    /// (records, logs, checkpoints and their exports, the report, TensorBoard events, evaluations). Anything else
    /// is refused, naming the folder and what is in the way.
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

    /// <summary>An existing run folder; one without a config.json is a <see cref="CheckpointException"/>.</summary>
    public static RunFolder Open(string path)
    {
        if (!System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile)))
            throw new CheckpointException($"{path} is not a run folder: it has no {ConfigFile}");
        return new RunFolder(path);
    }

    /// <summary>Where a run of <paramref name="model"/> goes when no folder is given: <c>runs/MODEL-yyyyMMdd-HHmmss</c>.</summary>
    public static string DefaultPath(string model) =>
        System.IO.Path.Combine("runs", $"{model}-{DateTime.Now:yyyyMMdd-HHmmss}");

    /// <summary>Writes config.json (whole, or not at all).</summary>
    public void WriteManifest(RunManifest manifest) => AtomicFile.WriteJson(File(ConfigFile), manifest);

    /// <summary>Reads config.json; a missing or malformed one is a <see cref="CheckpointException"/> naming the file.</summary>
    public RunManifest ReadManifest() => JsonFiles.Read<RunManifest>(File(ConfigFile), message => new CheckpointException(message));

    /// <summary>Writes results.json, which marks the run finished.</summary>
    public void WriteResults(RunResults results) => AtomicFile.WriteJson(File(ResultsFile), results);

    /// <summary>Reads results.json, or null for a run that has not finished.</summary>
    public RunResults? ReadResults() =>
        System.IO.File.Exists(File(ResultsFile)) ? JsonFiles.Read<RunResults>(File(ResultsFile), message => new CheckpointException(message)) : null;

    /// <summary>Whether the run finished (its results.json exists).</summary>
    public bool IsFinished => System.IO.File.Exists(File(ResultsFile));

    /// <summary>The epochs logged in metrics.csv (none yet: empty); a malformed file is a <see cref="CheckpointException"/>.</summary>
    public IReadOnlyList<EpochMetrics> ReadMetrics() =>
        System.IO.File.Exists(File(MetricsFile)) ? ReadLog(() => MetricsCsv.Read(File(MetricsFile))) : [];

    /// <summary>The learning rate of every step logged in lr.csv (none yet: empty).</summary>
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
