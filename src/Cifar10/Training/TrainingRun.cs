using System.Diagnostics;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Models;
using Cifar10.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>What `train` needs besides the hyperparameters.</summary>
public sealed record TrainRequest
{
    public TrainConfig Config { get; init; } = new();
    /// <summary>--data as given (archive, folder, extracted folder) or null for the default lookup.</summary>
    public string? Data { get; init; }
    public DownloadOptions Download { get; init; } = new();
    /// <summary>Run folder; null means runs/MODEL-TIMESTAMP.</summary>
    public string? Out { get; init; }
    public bool Force { get; init; }
    /// <summary>Continue the run in this folder instead of starting a new one.</summary>
    public string? Resume { get; init; }
    public string CommandLine { get; init; } = "";
}

public sealed record TrainSummary(string RunFolder, TrainingOutcome Outcome, RunResults Results, EvaluationResult Test);

/// <summary>
/// One training run end to end: data, split, model, the epoch loop, then the test set measured
/// once with the best checkpoint (by validation accuracy; the last one when there is no
/// validation set), with everything written into the run folder.
/// </summary>
public static class TrainingRun
{
    public static TrainSummary Execute(TrainRequest request, ITrainingObserver observer, CancellationToken cancellation)
    {
        var total = Stopwatch.StartNew();
        RunFolder run;
        TrainConfig config;
        string? dataOption = request.Data;
        RunManifest? previous = null;
        if (request.Resume is not null)
        {
            run = RunFolder.Open(request.Resume);
            previous = run.ReadManifest();
            config = previous.Config.Validated();
            dataOption ??= previous.DataFolder;
        }
        else
        {
            config = request.Config.Validated();
            ModelCatalog.Get(config.Model); // unknown names fail before anything is written
            run = RunFolder.Create(request.Out ?? RunFolder.DefaultPath(config.Model), request.Force);
        }

        DeviceSetup.SetThreads(config.Threads);
        var device = DeviceSetup.Resolve(config.Device);
        // config.json records what ran: "auto" becomes the precision this machine chose.
        config = config with { Precision = Precision.Resolve(config.Precision, config.Model) };
        var dataFolder = DataLocator.Resolve(dataOption, request.Download);
        var fingerprint = Cifar10Reader.Fingerprint(dataFolder);
        if (previous is not null && previous.DataSha256 != fingerprint.CombinedSha256)
            throw new ConfigException($"the data in {dataFolder} differs from the data run {run.Path} was trained on (SHA-256 {fingerprint.CombinedSha256[..12]}… vs {previous.DataSha256[..12]}…)");

        using var fullTrain = Cifar10Reader.ReadTrain(dataFolder);
        using var test = Cifar10Reader.ReadTest(dataFolder);
        var (trainSplit, validation) = Split.TrainValidation(fullTrain, config.ValidationSize, config.Seed);
        using var train = config.TrainSubset > 0 && config.TrainSubset < trainSplit.Count ? trainSplit.Take(config.TrainSubset) : trainSplit;
        using var _ = validation;
        if (!ReferenceEquals(train, trainSplit)) trainSplit.Dispose();

        if (previous is null)
        {
            run.WriteManifest(new RunManifest
            {
                Name = Path.GetFileName(Path.GetFullPath(run.Path)),
                Config = config,
                DataFolder = Path.GetFullPath(dataFolder),
                DataSha256 = fingerprint.CombinedSha256,
                DataFiles = new Dictionary<string, string>(fingerprint.FileSha256),
                Environment = EnvironmentInfo.Capture(device),
                CommandLine = request.CommandLine,
                Created = DateTimeOffset.Now,
            });
        }
        observer.Message($"run folder: {run.Path}");
        observer.Message($"data: {dataFolder} ({train.Count:N0} train, {validation.Count:N0} validation, {test.Count:N0} test)");

        torch.manual_seed(config.Seed); // the initial weights
        using var model = ModelCatalog.Create(config.Model, new ModelOptions(fullTrain.ClassNames.Count, config.Dropout, config.Depth));
        Precision.Apply(model, config.Precision);
        observer.Message($"model: {config.Model}, {config.Precision}; {config.Epochs} epochs of batch {config.BatchSize}");
        var trainer = new Trainer(config, model, device);
        var outcome = trainer.Fit(train, validation, run, observer, cancellation, resume: previous is not null);

        // The test set is measured once, with the checkpoint a user would keep.
        var chosen = validation.Count > 0 ? run.Best : run.Last;
        Checkpoint.LoadWeights(model, chosen);
        var testResult = Evaluator.Evaluate(model, test, device, config.EvalBatchSize,
                                            config.TestTta ? TestTimeAugmentation.MirrorTranslate : TestTimeAugmentation.None);
        var results = new RunResults
        {
            EpochsCompleted = outcome.EpochsCompleted,
            BestValAccuracy = outcome.BestValAccuracy,
            BestEpoch = outcome.BestEpoch,
            TestAccuracy = testResult.Accuracy,
            TestLoss = testResult.Loss,
            TestCheckpoint = Path.GetFileName(chosen),
            TrainSeconds = outcome.Seconds,
            TotalSeconds = total.Elapsed.TotalSeconds,
            Finished = DateTimeOffset.Now,
        };
        run.WriteResults(results);
        RunReportBuilder.Write(run, testResult, test);
        return new TrainSummary(run.Path, outcome, results, testResult);
    }
}
