using System.Diagnostics;
using Cifar10.Data;
using Cifar10.Distributed;
using Cifar10.Evaluation;
using Cifar10.Export;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runtime;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>What `train` needs besides the hyperparameters.</summary>
public sealed record TrainRequest
{
    /// <summary>The settings of a new run (<see cref="TrainSettings.Resolve"/>); not used with <see cref="Resume"/>.</summary>
    public TrainConfig Config { get; init; } = Recipes.Classic.Defaults;
    /// <summary>--data as given (archive, folder, extracted folder) or null for the default lookup.</summary>
    public string? Data { get; init; }
    /// <summary>Where missing data is downloaded from and where it is cached.</summary>
    public DownloadOptions Download { get; init; } = new();
    /// <summary>Run folder; null means runs/MODEL-TIMESTAMP.</summary>
    public string? Out { get; init; }
    /// <summary>Replace an existing run folder (only a run folder, and only once the new run has its first checkpoint).</summary>
    public bool Force { get; init; }
    /// <summary>A PyTorch state_dict file (the original networks' names) the new run starts from instead of
    /// a fresh initialisation (the fast network's whitening included); its SHA-256 goes into config.json.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Continue the run in this folder with its own settings, instead of starting a new one.</summary>
    public string? Resume { get; init; }
    /// <summary>With <see cref="Resume"/>: this machine's thread count and device, if they differ from the run's.</summary>
    public int? Threads { get; init; }
    /// <summary>With <see cref="Resume"/>: this machine's device, if it differs from the run's.</summary>
    public string? Device { get; init; }
    /// <summary>With <see cref="Resume"/>: how to run on MPI; auto when not given (the world must be known before
    /// the run's settings are: the run folder may be on rank 0's machine alone).</summary>
    public DistributedMode? Distributed { get; init; }
    /// <summary>The command line to record in config.json (empty from C#).</summary>
    public string CommandLine { get; init; } = "";
}

/// <summary>What a finished run returns: where it is, how training went and what it measured on the test set.</summary>
/// <param name="RunFolder">The run folder.</param>
/// <param name="Outcome">How training ended.</param>
/// <param name="Results">What results.json records.</param>
/// <param name="Test">The test evaluation of the run's best checkpoint (or last, without validation), per image.</param>
public sealed record TrainSummary(string RunFolder, TrainingOutcome Outcome, RunResults Results, EvaluationResult Test)
{
    /// <summary>False on the ranks of a distributed run other than 0: rank 0 reports the run.</summary>
    public bool Reports { get; init; } = true;
}

/// <summary>Training was interrupted; the message says what was kept and what command continues it.</summary>
public sealed class RunInterruptedException(string message, Exception? inner = null) : OperationCanceledException(message, inner);

/// <summary>
/// One training run end to end: settings and data validated, network built, and only then the run
/// folder written; the epoch loop with the folder as an observer; then the test set measured once
/// (with the best checkpoint and the run's test-time augmentation), results.json and the report. Under an MPI launcher every rank runs this
/// (docs/distributed.md): rank 0 alone writes the run folder and reports, and every rank trains its share.
/// </summary>
public static class TrainingRun
{
    /// <summary>
    /// Runs <c>cifar10 train</c>: a new run (or the resumed one), to a finished run folder with its logs,
    /// checkpoints, test figures, results.json and report. Nothing is written before the settings, the data and
    /// the network have been checked.
    /// </summary>
    /// <param name="request">The settings, the data, the run folder and what else the run needs.</param>
    /// <param name="observer">Told the progress of every step, epoch and of the test evaluation (the run folder is written regardless).</param>
    /// <param name="cancellation">Stops training within a step; the run then ends with a <see cref="RunInterruptedException"/> whose
    /// message names the checkpoint kept and the command that resumes it.</param>
    /// <returns>The run's folder, outcome and test evaluation.</returns>
    /// <exception cref="ConfigException">A setting, the folder or the data cannot be used as asked.</exception>
    public static TrainSummary Execute(TrainRequest request, ITrainingObserver observer, CancellationToken cancellation)
    {
        var parallel = MpiLaunch.Start(request.Resume is null ? request.Config.Distributed : request.Distributed ?? DistributedMode.Auto);
        try
        {
            return Execute(request, parallel.IsMain ? observer : SilentObserver.Instance, parallel.Follow(cancellation), parallel);
        }
        catch (Exception e)
        {
            throw parallel.Ending(e);
        }
    }

    static TrainSummary Execute(TrainRequest request, ITrainingObserver observer, CancellationToken cancellation, DataParallel parallel)
    {
        var total = Stopwatch.StartNew();
        RunFolder? existing = null;
        RunManifest? previous = null;
        TrainConfig config;
        string? dataOption = request.Data;
        string outFolder = "";
        if (request.Resume is not null)
        {
            previous = parallel.OnMain(() => // the run folder may be on rank 0's machine alone
            {
                existing = RunFolder.Open(request.Resume);
                if (existing.IsFinished)
                    throw new ConfigException($"run {request.Resume} is finished (it has {RunFolder.ResultsFile}), so there is nothing to resume; `cifar10 report --run {request.Resume}` rewrites its report");
                return existing.ReadManifest();
            });
            config = previous.Config with { Threads = request.Threads ?? previous.Config.Threads, Device = request.Device ?? previous.Config.Device };
            dataOption ??= previous.DataFolder;
        }
        else
        {
            config = request.Config;
            outFolder = parallel.OnMain(() =>
            {
                var folder = request.Out ?? RunFolder.DefaultPath(config.Model);
                RunFolder.CheckCanCreate(folder, request.Force); // refuse at once; replace only once all is validated
                return folder;
            });
        }
        parallel.Alike(() => config = config.Validated());
        // config.json records what ran: "auto" becomes the precision this machine chose.
        config = config with { Precision = Precision.Resolve(config.Precision, ModelCatalog.Get(config.Model)) };

        var (threads, world) = MpiLaunch.Describe(parallel, config.Threads);
        using var session = Session.Open(new SessionOptions
        {
            Device = config.Device, Threads = threads, Data = config.DataRequest(dataOption, request.Download),
        }, cancellation);
        parallel.OnMain(() => session.Data.Kind); // rank 0 first: it downloads or extracts what the others then find
        var data = session.Data;
        parallel.EnsureSameRun(config, data.Fingerprint.CombinedSha256);
        if (previous is not null && previous.DataSha256 != data.Fingerprint.CombinedSha256)
            // Not the user's command line but the world that changed (an image added, a file replaced): a failure.
            throw parallel.Collective(new DataException($"the data in {data.Folder} differs from the data run {existing!.Path} was trained on (SHA-256 {data.Fingerprint.CombinedSha256[..12]}… vs {previous.DataSha256[..12]}…), so it cannot be resumed; train a new run on the new data"));
        config = config with { Dataset = data.Kind }; // config.json records what ran: "auto" becomes the kind found
        var (train, validation, normalization) = session.Training(config);
        // Read now, so that a damaged test file fails before the training and not after it; then let go
        // until the test evaluation, so that its images are not resident through every training step.
        int testCount = session.Test.Count;
        session.ReleaseTest();
        using var model = session.CreateModel(config);
        parallel.Alike(() => Trainer.CheckCanTrain(config, model, train, parallel.Size));
        using var last = SharedCheckpoint.From(parallel, request.Resume is null ? null : parallel.OnMain(() => Checkpoint.ResumeFrom(existing!.Last)?.Folder));
        var resumeFrom = last.Folder is null ? null : Checkpoint.ResumeFrom(last.Folder);
        // Imported weights replace the fresh initialisation, also when a run is resumed before its first checkpoint.
        var initFrom = request.Resume is null ? request.InitFrom : previous!.InitFrom;
        string? initFromSha256 = null;
        if (resumeFrom is null && initFrom is not null)
            initFromSha256 = parallel.OnMain(() => // the other ranks start from rank 0's weights (Trainer.Fit)
            {
                ModelExport.LoadPyTorch(model, initFrom);
                return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(initFrom)));
            });

        // Everything is validated: only now is anything written.
        RunFolder? run = null;
        parallel.OnMain(() => { run = existing ?? RunFolder.Create(outFolder, request.Force); });
        try
        {
            parallel.OnMain(() =>
            {
                if (existing is not null) return;
                run!.WriteManifest(new RunManifest
                {
                    Name = Path.GetFileName(Path.GetFullPath(run.Path).TrimEnd(Path.DirectorySeparatorChar)),
                    Config = config,
                    DataFolder = Path.GetFullPath(data.Folder),
                    DataSha256 = data.Fingerprint.CombinedSha256,
                    DataFiles = new Dictionary<string, string>(data.Fingerprint.FileSha256),
                    Environment = EnvironmentInfo.Capture(session.Device),
                    CommandLine = request.CommandLine,
                    InitFrom = request.InitFrom is null ? null : Path.GetFullPath(request.InitFrom),
                    InitFromSha256 = initFromSha256,
                    Distributed = world,
                    Created = DateTimeOffset.Now,
                });
            });
            string runPath = request.Resume ?? outFolder;
            observer.Message($"run folder: {runPath}");
            if (world is not null) observer.Message(world.Describe(config.BatchSize));
            observer.Message($"data: {data.Name} in {data.Folder} ({train.Count:N0} train, {validation.Count:N0} validation, {testCount:N0} test, {data.ClassNames.Count} classes)");
            observer.Message($"model: {config.Model} ({config.Recipe} recipe), {config.Precision.ToString().ToLowerInvariant()}; {DisplayFormat.Count(config.Epochs, "epoch")} of batch {config.BatchSize}" +
                               (config.MicroBatch > 0 && config.MicroBatch < config.BatchSize ? $" in parts of at most {config.MicroBatch}" : ""));
            if (Precision.SlowBf16Warning(config.Precision) is { } slow) observer.Message(slow);

            var folderObserver = run is null ? null : new RunFolderObserver(run);
            var outcome = new Trainer(config, model, session.Device, normalization, parallel)
                .Fit(train, validation, folderObserver is null ? observer : new Observers(folderObserver, observer), cancellation, resumeFrom,
                     initializeFromData: initFrom is null);
            var clock = Stopwatch.StartNew();
            using var tested = SharedCheckpoint.From(parallel, parallel.OnMain(() => run!.TestCheckpoint(config)));
            var test = TestEvaluation.Run(run, tested.Folder!, config, session, parallel, observer, cancellation);
            double testSeconds = clock.Elapsed.TotalSeconds;
            var results = parallel.OnMain(() => Finish(run!, folderObserver!, config, session, outcome, test, testSeconds, total, cancellation));
            return new TrainSummary(runPath, outcome, results, test.Result) { Reports = parallel.IsMain };
        }
        catch (Exception e) when (run is not null)
        {
            throw Unwind(run, existing is null, e);
        }
    }

    /// <summary>The report, then results.json: last, as a run with results.json is finished, report included.</summary>
    /// <summary>Rank 0's end of a run: the report, the last TensorBoard records, and results.json, written last so that
    /// a run with results.json is finished, report included.</summary>
    static RunResults Finish(RunFolder run, RunFolderObserver folderObserver, TrainConfig config, Session session, TrainingOutcome outcome,
                             MeasuredTest test, double testSeconds, Stopwatch total, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        RunReportBuilder.Write(run, test, session.Test, cancellation);
        var results = new RunResults
        {
            EpochsCompleted = outcome.EpochsCompleted,
            BestValAccuracy = outcome.BestValAccuracy,
            BestEpoch = outcome.BestEpoch,
            TestAccuracy = test.Result.Accuracy,
            TestLoss = test.Result.Loss,
            TestCheckpoint = Path.GetFileName(run.TestCheckpoint(config)),
            TestTta = config.TestTta,
            StopReason = outcome.StopReason,
            TrainSeconds = outcome.Seconds,
            TestSeconds = testSeconds,
            ReportSeconds = clock.Elapsed.TotalSeconds,
            TotalSeconds = total.Elapsed.TotalSeconds,
            Finished = DateTimeOffset.Now,
        };
        folderObserver.RunFinished(config, results, RunReportBuilder.SampleImages.Select(s => (s.Tag, run.File(s.File))).ToList());
        run.WriteResults(results);
        return results;
    }

    /// <summary>What a run that failed or was interrupted leaves behind, and what it tells the user.</summary>
    static Exception Unwind(RunFolder run, bool newRun, Exception failure)
    {
        bool interrupted = failure is OperationCanceledException;
        bool checkpointed = Checkpoint.Recover(run.Last);
        if (run.ReplacedRun is not null)
        {
            run.RollBackReplacement();
            return interrupted
                ? new RunInterruptedException($"interrupted before the first epoch ended; the earlier run in {run.Path} was put back", failure)
                : failure;
        }
        if (!interrupted)
        {
            if (newRun && !checkpointed) run.RemoveNew();
            return failure;
        }
        var kept = checkpointed
            ? $"epoch {Checkpoint.ReadState(run.Last).Epoch} is checkpointed"
            : "no epoch had ended, so it starts from the first";
        return new RunInterruptedException($"interrupted; {kept}. Continue with: cifar10 train --resume {run.Path}", failure);
    }
}
