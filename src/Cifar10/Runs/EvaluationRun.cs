using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Export;
using Cifar10.Prediction;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Runs;

/// <summary>What <c>cifar10 eval</c> measures, on which data, and where it writes.</summary>
public sealed record EvalRequest
{
    /// <summary>A run folder (its best checkpoint), a checkpoint folder, or an exported .onnx model; or null with <see cref="Weights"/>.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>A PyTorch state_dict file of the network named by the setting "model" in <see cref="Settings"/>; or null with <see cref="Checkpoint"/>.</summary>
    public string? Weights { get; init; }
    /// <summary>Settings by name as given (<see cref="EvaluationRun.SettingNames"/>): the network of <see cref="Weights"/>, the data's
    /// and the test-time augmentation's. What is not given comes from the run that made the checkpoint.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; init; } = [];
    /// <summary>The data (--data); null for the run's own, else the default lookup.</summary>
    public string? Data { get; init; }
    /// <summary>How missing data is fetched.</summary>
    public DownloadOptions Download { get; init; } = new();
    /// <summary>The compute device.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>libtorch intra-op threads (0: one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; init; } = Recipes.Classic.Defaults.EvalBatchSize;
    /// <summary>The folder for the evaluation's files (null: eval-CHECKPOINT[-tta] beside the checkpoint).</summary>
    public string? Out { get; init; }
    /// <summary>Replace the files of an earlier evaluation in that folder.</summary>
    public bool Force { get; init; }
}

/// <summary>What an evaluation measured and the files it wrote.</summary>
/// <param name="Result">The test set's figures, per image and per class.</param>
/// <param name="Views">The test-time augmentation it was measured with.</param>
/// <param name="Written">The files written (their full paths).</param>
public sealed record EvalSummary(EvaluationResult Result, TestTimeAugmentation Views, IReadOnlyList<string> Written);

/// <summary>
/// <c>cifar10 eval</c>: a checkpoint, an exported ONNX model or a PyTorch state_dict measured on the test set of its
/// data, as the run that made it measured it (its data, data settings and test-time augmentation, unless the request
/// names others), and the confusion matrix, per-class accuracy and figures written beside it.
/// </summary>
public static class EvaluationRun
{
    static readonly string[] NetworkSettings = ["model", "depth", "dropout"];
    static readonly string[] MeasureSettings = ["tta", "tta-confidence"];

    /// <summary>The settings an evaluation takes: the network of a state_dict, the data's, and how the test set is measured.</summary>
    public static IReadOnlyList<string> SettingNames { get; } =
        [.. NetworkSettings, "dataset", "labels", "test-size", "seed", .. MeasureSettings];

    /// <summary>Measures and writes; a usage error (a missing or contradictory option, an output in the way) comes before anything is read.</summary>
    public static EvalSummary Execute(EvalRequest request, IProgress<WorkProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (request.BatchSize < 1) throw new ConfigException($"--batch-size must be > 0 (got {request.BatchSize})");
        Runtime.DeviceSetup.CheckThreads(request.Threads);
        if ((request.Checkpoint is null) == (request.Weights is null))
            throw new ConfigException("eval takes either --checkpoint RUN or --weights FILE.pt --model NAME");
        var settings = request.Settings.Select(s => new KeyValuePair<string, string>(TrainSettings.Get(s.Key).Name, s.Value)).ToList();
        if (settings.FirstOrDefault(s => !SettingNames.Contains(s.Key)) is { Key: { } unknown })
            throw new ConfigException($"eval does not take --{unknown}");
        if (request.Weights is not null && !settings.Any(s => s.Key == "model"))
            throw new ConfigException("--weights needs --model: a state_dict names tensors, not its network");

        var onnx = request.Checkpoint is { } named && ModelFiles.IsOnnx(named) ? named : null;
        string? folder = request.Weights is null && onnx is null ? Training.Checkpoint.Locate(request.Checkpoint!) : null;
        // The run's own data, data settings and TTA, unless the request names others (also for a model exported into its run folder).
        var runOf = folder ?? (onnx is null ? null : Path.GetDirectoryName(Path.GetFullPath(onnx)));
        var manifest = runOf is null ? null : RunFolder.Of(runOf)?.ReadManifest();
        var measure = Apply(manifest?.Config ?? Recipes.Classic.Defaults, settings.Where(s => MeasureSettings.Contains(s.Key)));
        if (TrainSettings.Get("tta-confidence").Check(measure) is { } invalid) throw new ConfigException(invalid);
        var views = measure.TestViews;
        var outFolder = request.Out
                        ?? EvaluationFiles.DefaultFolder(folder ?? Path.ChangeExtension(Path.GetFullPath(onnx ?? request.Weights!), null), views != TestTimeAugmentation.None);
        EvaluationFiles.CheckCanWrite(outFolder, request.Force); // before the evaluation, not after it

        var dataSettings = settings.Where(s => !MeasureSettings.Contains(s.Key)).ToList();
        var config = request.Weights is null
            ? Apply(request.Data is null && manifest is not null ? manifest.Config : Recipes.Classic.Defaults,
                    dataSettings.Where(s => !NetworkSettings.Contains(s.Key)))
            : TrainSettings.Resolve(dataSettings) with { Precision = PrecisionMode.Fp32 }; // a state_dict is evaluated as it was made
        using var session = Session.Open(new SessionOptions
        {
            Device = request.Device, Threads = request.Threads,
            Data = config.DataRequest(request.Data ?? manifest?.DataFolder, request.Download),
        }, cancellation);
        var (model, normalization) = onnx is not null ? FromOnnx(session, onnx)
            : request.Weights is null ? FromCheckpoint(session, folder!) : FromWeights(session, config, request.Weights);
        using (model)
        {
            var result = Evaluator.Evaluate(model, session.Test, session.Device, request.BatchSize, views, cancellation, normalization,
                                            measure.TtaConfidence, progress, views == TestTimeAugmentation.None ? "test set" : "test set (TTA)");
            return new EvalSummary(result, views, EvaluationFiles.Write(outFolder, result, views, request.Force));
        }
    }

    static TrainConfig Apply(TrainConfig config, IEnumerable<KeyValuePair<string, string>> settings) =>
        settings.Aggregate(config, (c, s) => TrainSettings.Get(s.Key).Apply(c, s.Value));

    static (nn.Module<Tensor, Tensor>, Normalization) FromCheckpoint(Session session, string folder)
    {
        var (model, state) = session.LoadModel(folder);
        session.CheckClassesMatch(state, folder);
        return (model, state.Normalization);
    }

    /// <summary>An exported ONNX model on ONNX Runtime, as a network the evaluator runs like any other (its graph normalises).</summary>
    static (nn.Module<Tensor, Tensor>, Normalization) FromOnnx(Session session, string file)
    {
        var classifier = session.Classifier(file);
        try
        {
            session.CheckClassesMatch(classifier.ClassNames, file);
        }
        catch
        {
            classifier.Dispose();
            throw;
        }
        return (new ClassifierNetwork(classifier), ClassifierNetwork.InputNormalization);
    }

    /// <summary>A state_dict trained elsewhere: the named network, its weights from the file, the data's own statistics.</summary>
    static (nn.Module<Tensor, Tensor>, Normalization) FromWeights(Session session, TrainConfig config, string file)
    {
        var model = session.CreateModel(config);
        ModelExport.LoadPyTorch(model, file);
        model.to(session.Device);
        model.eval();
        using var train = session.Data.ReadTrain();
        return (model, session.Data.NormalizationOf(train));
    }
}
