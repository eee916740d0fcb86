using System.Text.Json;
using Cifar10.Data;
using Cifar10.Reporting;
using Cifar10.Runs;
using Cifar10.Training;

namespace Cifar10.Sweeps;

/// <summary>What <c>cifar10 sweep</c> is asked: the settings every trial shares, the ones it varies, and where the trials go.</summary>
public sealed record SweepRequest
{
    /// <summary>The settings given besides --vary, by name (as `train` takes them).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> BaseSettings { get; init; } = [];
    /// <summary>The settings varied and their values (<c>--vary</c>).</summary>
    public IReadOnlyList<VariedSetting> Varied { get; init; } = [];
    /// <summary>Every combination of the varied values (true), or the i-th value of each together (false: the lists must be equally long).</summary>
    public bool Grid { get; init; } = true;
    /// <summary>The sweep folder: each trial a run folder in it, beside sweep.json and the sweep's report.</summary>
    public string Folder { get; init; } = "";
    /// <summary>--data as given, or null for the default lookup.</summary>
    public string? Data { get; init; }
    /// <summary>Where missing data is downloaded from and where it is cached.</summary>
    public DownloadOptions Download { get; init; } = new();
    /// <summary>Run only this trial (0-based), e.g. $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX.</summary>
    public int? TrialIndex { get; init; }
    /// <summary>The command line each trial records in its config.json.</summary>
    public string CommandLine { get; init; } = "";
}

/// <summary>What sweep.json records, so that a sweep started again continues the same plan.</summary>
internal sealed record SweepManifest(IReadOnlyList<KeyValuePair<string, string>> BaseSettings, IReadOnlyList<VariedSetting> Varied, bool Grid,
                                   IReadOnlyList<string> Trials);

/// <summary>What became of a trial when a sweep ran.</summary>
public enum TrialStatus
{
    /// <summary>Trained now (started, or resumed from its checkpoint).</summary>
    Finished,
    /// <summary>Finished by an earlier run of the sweep: skipped.</summary>
    AlreadyFinished,
    /// <summary>Another process holds its lock: skipped.</summary>
    RunningElsewhere,
}

/// <summary>
/// Runs the trials of a sweep, each an ordinary run folder inside the sweep folder. A trial
/// with results is skipped, one with a checkpoint is resumed, so a sweep started again picks
/// up where it stopped. Trials are independent: several processes (machines sharing the
/// folder, a Slurm array, a Kubernetes indexed Job) may each run one with --trial-index; a
/// lock file per trial keeps two processes off the same one.
/// </summary>
public static class SweepRunner
{
    /// <summary>The sweep's plan, written when it starts, compared when it continues.</summary>
    public const string ManifestFile = "sweep.json";

    /// <summary>Runs the sweep's trials in order (or only <see cref="SweepRequest.TrialIndex"/>), rewriting the sweep's report after each.</summary>
    /// <param name="request">The sweep.</param>
    /// <param name="observerFor">The observer of each trial's training.</param>
    /// <param name="say">Told, one line each, what happens to every trial.</param>
    /// <param name="cancellation">Stops the trial running (which keeps its checkpoint) and the sweep.</param>
    /// <returns>Each trial run or skipped, with what became of it.</returns>
    public static IReadOnlyList<(Trial Trial, TrialStatus Status)> Run(
        SweepRequest request, Func<Trial, ITrainingObserver> observerFor, Action<string> say, CancellationToken cancellation)
    {
        var trials = SweepPlan.Expand(request.BaseSettings, request.Varied, request.Grid);
        if (request.TrialIndex is int only && (only < 0 || only >= trials.Count))
            throw new ConfigException($"--trial-index {only} is out of range: this sweep has {trials.Count} trials (0..{trials.Count - 1})");
        CheckFolder(request.Folder);
        Directory.CreateDirectory(request.Folder);
        WriteOrCheckManifest(request, trials);

        var outcomes = new List<(Trial, TrialStatus)>();
        foreach (var trial in trials)
        {
            if (request.TrialIndex is int index && trial.Index != index) continue;
            cancellation.ThrowIfCancellationRequested();
            var status = RunTrial(request, trial, trials.Count, observerFor(trial), say, cancellation);
            outcomes.Add((trial, status));
            WriteReport(request.Folder, trials);
        }
        return outcomes;
    }

    static TrialStatus RunTrial(SweepRequest request, Trial trial, int trialCount, ITrainingObserver observer, Action<string> say, CancellationToken cancellation)
    {
        var named = $"trial {trial.Index} ({trial.Index + 1} of {trialCount}) {trial.Name}"; // the index --trial-index takes, 0-based
        var folder = Path.Combine(request.Folder, trial.Name);
        if (File.Exists(Path.Combine(folder, RunFolder.ResultsFile)))
        {
            say($"{named}: finished earlier, skipped");
            return TrialStatus.AlreadyFinished;
        }

        FileStream? trialLock;
        try
        {
            trialLock = new FileStream(Path.Combine(request.Folder, trial.Name + ".lock"), FileMode.OpenOrCreate,
                                       FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException)
        {
            say($"{named}: running in another process, skipped");
            return TrialStatus.RunningElsewhere;
        }

        using (trialLock)
        {
            // A trial that wrote its config.json has started: it continues from its last checkpoint (or its start).
            bool started = File.Exists(Path.Combine(folder, RunFolder.ConfigFile));
            say($"{named}: {(started ? "resuming" : "starting")}");
            TrainingRun.Execute(new TrainRequest
            {
                Config = trial.Config,
                Data = request.Data,
                Download = request.Download,
                Out = folder,
                Resume = started ? folder : null,
                CommandLine = request.CommandLine,
            }, observer, cancellation);
        }
        return TrialStatus.Finished;
    }

    /// <summary>A sweep writes only into a new or empty folder, or continues its own (whose plan
    /// <see cref="WriteOrCheckManifest"/> then compares): it never writes its tables and pages over a user's files.</summary>
    static void CheckFolder(string folder)
    {
        if (File.Exists(folder)) throw new ConfigException($"{folder} is a file; --out names the sweep folder");
        if (!Directory.Exists(folder) || File.Exists(Path.Combine(folder, ManifestFile))) return;
        // Another process starting the same sweep may be writing sweep.json this moment.
        var entries = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(name => !AtomicFile.IsTemporary(name!)).ToList();
        if (entries.Count > 0)
            throw new ConfigException($"{folder} is neither empty nor a sweep folder (it has no {ManifestFile} but {string.Join(", ", entries.Take(3))}"
                                      + (entries.Count > 3 ? ", ..." : "") + "); a sweep writes only into an empty folder or continues its own; choose another --out");
    }

    static void WriteOrCheckManifest(SweepRequest request, IReadOnlyList<Trial> trials)
    {
        var manifest = new SweepManifest(request.BaseSettings, request.Varied, request.Grid, trials.Select(t => t.Name).ToList());
        var json = JsonSerializer.Serialize(manifest, JsonFiles.Options);
        var path = Path.Combine(request.Folder, ManifestFile);
        if (File.Exists(path))
        {
            if (File.ReadAllText(path) != json)
                throw new ConfigException($"{request.Folder} holds a different sweep ({ManifestFile} differs); use another --out, or the same settings to continue it");
            return;
        }
        AtomicFile.WriteAllText(path, json);
    }

    /// <summary>Tables, overlaid curves and an index page over the trials finished so far.</summary>
    public static IReadOnlyList<string> WriteReport(string sweepFolder, IReadOnlyList<Trial> trials)
    {
        var finished = Finished(sweepFolder, trials);
        if (finished.Count == 0) return [];
        var names = string.Join(",", trials[0].Settings.Select(s => s.Key));
        return SweepReport.Write(sweepFolder, names, finished);
    }

    /// <summary>The results table of the sweep's finished trials (all of them, run here or elsewhere), as
    /// plain text for the end of `sweep`; null while none has finished.</summary>
    public static string? ResultsTable(SweepRequest request)
    {
        var finished = Finished(request.Folder, SweepPlan.Expand(request.BaseSettings, request.Varied, request.Grid));
        return finished.Count == 0 ? null : SweepReport.Table(finished);
    }

    static List<SweepTrial> Finished(string sweepFolder, IReadOnlyList<Trial> trials)
    {
        var finished = new List<SweepTrial>();
        foreach (var trial in trials)
        {
            var folder = Path.Combine(sweepFolder, trial.Name);
            if (!File.Exists(Path.Combine(folder, RunFolder.ResultsFile))) continue;
            var run = RunFolder.Open(folder);
            var results = run.ReadResults()!;
            finished.Add(new SweepTrial(trial.Name, trial.Settings, folder, run.ReadMetrics(), results.TestAccuracy, results.TotalSeconds));
        }
        return finished;
    }
}
