using System.Text.Json;
using Cifar10.Reporting;
using Cifar10.Runtime;

namespace Cifar10.Training;

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
    public double TrainSeconds { get; init; }
    public double TotalSeconds { get; init; }
    public DateTimeOffset Finished { get; init; }
}

/// <summary>
/// The folder of one run (runs/NAME by default) and the files in it. A run folder that already
/// holds results is never reused unless the caller asks to overwrite or to resume.
/// </summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.csv";
    public const string LearningRateFile = "lr.csv";
    public const string ResultsFile = "results.json";
    public const string TensorBoardFolder = "tensorboard";
    public const string LastCheckpoint = "last";
    public const string BestCheckpoint = "best";

    public string Path { get; }

    RunFolder(string path) => Path = path;

    public string File(string name) => System.IO.Path.Combine(Path, name);
    public string Last => File(LastCheckpoint);
    public string Best => File(BestCheckpoint);

    /// <summary>Makes a new run folder. An existing non-empty folder is an error unless
    /// <paramref name="overwrite"/>, in which case its previous contents are removed.</summary>
    public static RunFolder Create(string path, bool overwrite)
    {
        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
        {
            if (!overwrite)
                throw new ConfigException($"run folder {path} already exists; pass --force to overwrite it or --resume {path} to continue it");
            Directory.Delete(path, recursive: true);
        }
        Directory.CreateDirectory(path);
        return new RunFolder(path);
    }

    public static RunFolder Open(string path)
    {
        if (!System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile)))
            throw new CheckpointException($"{path} is not a run folder: it has no {ConfigFile}");
        return new RunFolder(path);
    }

    public static string DefaultPath(string model) =>
        System.IO.Path.Combine("runs", $"{model}-{DateTime.Now:yyyyMMdd-HHmmss}");

    public void WriteManifest(RunManifest manifest) => WriteJson(ConfigFile, manifest);

    public RunManifest ReadManifest()
    {
        try
        {
            return JsonSerializer.Deserialize<RunManifest>(System.IO.File.ReadAllText(File(ConfigFile)), TrainConfig.Json)
                   ?? throw new CheckpointException($"{File(ConfigFile)} is empty");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{File(ConfigFile)} is not valid JSON: {e.Message}");
        }
    }

    public void WriteResults(RunResults results) => WriteJson(ResultsFile, results);

    public RunResults? ReadResults() =>
        System.IO.File.Exists(File(ResultsFile))
            ? JsonSerializer.Deserialize<RunResults>(System.IO.File.ReadAllText(File(ResultsFile)), TrainConfig.Json)
            : null;

    public IReadOnlyList<EpochMetrics> ReadMetrics() =>
        System.IO.File.Exists(File(MetricsFile)) ? MetricsCsv.Read(File(MetricsFile)) : [];

    /// <summary>Drops log rows past the epoch a resumed run restarts from, so that the redone
    /// epochs are not recorded twice.</summary>
    public void TruncateLogs(int completedEpochs, long completedSteps)
    {
        if (System.IO.File.Exists(File(MetricsFile)))
            MetricsCsv.Write(File(MetricsFile), MetricsCsv.Read(File(MetricsFile)).Where(m => m.Epoch <= completedEpochs));
        if (System.IO.File.Exists(File(LearningRateFile)))
        {
            var kept = LearningRateCsv.Read(File(LearningRateFile)).Where(p => p.Step < completedSteps).ToList();
            System.IO.File.Delete(File(LearningRateFile));
            LearningRateCsv.Append(File(LearningRateFile), kept);
        }
    }

    void WriteJson<T>(string name, T value)
    {
        var target = File(name);
        var temporary = target + ".writing";
        System.IO.File.WriteAllText(temporary, JsonSerializer.Serialize(value, TrainConfig.Json));
        System.IO.File.Move(temporary, target, overwrite: true);
    }
}
