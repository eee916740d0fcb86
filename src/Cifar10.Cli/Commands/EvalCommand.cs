using System.CommandLine;
using Cifar10.Evaluation;
using Cifar10.Export;
using Cifar10.Prediction;
using Cifar10.Runs;
using Cifar10.Training;
using TorchSharp;

namespace Cifar10.Cli.Commands;

/// <summary>`eval`: test accuracy, per-class accuracy and the confusion matrix of a checkpoint.</summary>
public static class EvalCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = CommonOptions.CheckpointOrOnnx };
        var weights = new Option<string?>("--weights")
        {
            Description = "Evaluate a PyTorch state_dict file with the original network's names instead (with --model)",
        };
        var data = CommonOptions.Data();
        var dataSettings = new SettingOptions("model", "depth", "dropout", "dataset", "labels", "test-size", "seed");
        // The run's own test-time augmentation unless given: eval measures as train did, so they agree.
        var measureSettings = new SettingOptions("tta", "tta-confidence");
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var batchSize = new Option<int>("--batch-size", "-b")
        {
            Description = "Images per forward pass (memory grows with it, accuracy does not change)",
            DefaultValueFactory = _ => Recipes.Classic.Defaults.EvalBatchSize,
        };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for the CSV files and eval.json (default: eval-CHECKPOINT[-tta] in the run folder)" };
        var force = new Option<bool>("--force") { Description = "Replace the files of an earlier evaluation in that folder" };
        var command = new Command("eval", "Evaluate a checkpoint (or a PyTorch state_dict) on the test set of its data (the run's own, unless --data and the data options say otherwise)")
        {
            checkpoint, weights, data, device, threads, batchSize, output, force,
        };
        dataSettings.AddTo(command);
        measureSettings.AddTo(command);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(batchSize) < 1) throw new ConfigException("batch size must be positive");
            Runtime.DeviceSetup.CheckThreads(parsed.GetValue(threads)); // usage errors before anything is read
            var given = dataSettings.Given(parsed);
            var weightsFile = parsed.GetValue(weights);
            if ((parsed.GetValue(checkpoint) is null) == (weightsFile is null))
                throw new ConfigException("eval takes either --checkpoint RUN or --weights FILE.pt --model NAME");
            if (weightsFile is not null && !given.Any(g => g.Key == "model"))
                throw new ConfigException("--weights needs --model: a state_dict names tensors, not its network");
            var onnx = parsed.GetValue(checkpoint) is { } named && ModelFiles.IsOnnx(named) ? named : null;
            string? folder = weightsFile is null && onnx is null ? Checkpoint.Locate(parsed.GetValue(checkpoint)!) : null;
            // The run's own data, data settings and TTA, unless the command line names others (also for a model exported into its run folder).
            var runOf = folder ?? (onnx is null ? null : Path.GetDirectoryName(Path.GetFullPath(onnx)));
            var manifest = runOf is null ? null : RunFolder.Of(runOf)?.ReadManifest();
            var measure = measureSettings.Given(parsed).Aggregate(manifest?.Config ?? Recipes.Classic.Defaults,
                                                                  (c, g) => TrainSettings.Get(g.Key).Apply(c, g.Value));
            if (TrainSettings.Get("tta-confidence").Check(measure) is { } invalid) throw new ConfigException(invalid);
            var views = measure.TestViews;
            var outFolder = parsed.GetValue(output)
                            ?? EvaluationFiles.DefaultFolder(folder ?? Path.ChangeExtension(Path.GetFullPath(onnx ?? weightsFile!), null), views != TestTimeAugmentation.None);
            EvaluationFiles.CheckCanWrite(outFolder, parsed.GetValue(force)); // before the evaluation, not after it
            var config = parsed.GetResult(data) is null && manifest is not null ? manifest.Config : Recipes.Classic.Defaults;
            config = weightsFile is null
                ? given.Where(g => g.Key is not ("model" or "depth" or "dropout")).Aggregate(config, (c, g) => TrainSettings.Get(g.Key).Apply(c, g.Value))
                : TrainSettings.Resolve(given);
            using var session = Session.Open(new SessionOptions
            {
                Device = parsed.GetValue(device)!, Threads = parsed.GetValue(threads),
                Data = config.DataRequest(parsed.GetValue(data) ?? manifest?.DataFolder, DownloadCommand.Options(console)),
            }, console.Interrupt);
            var (model, normalization) = onnx is not null ? FromOnnx(session, onnx)
                : weightsFile is null ? FromCheckpoint(session, folder!) : FromWeights(session, config with { Precision = PrecisionMode.Fp32 }, weightsFile);
            using var _model = model;
            var result = TrainingConsole.Run(console, observer =>
                Evaluator.Evaluate(model, session.Test, session.Device, parsed.GetValue(batchSize), views, console.Interrupt, normalization,
                                   measure.TtaConfidence, observer, views == TestTimeAugmentation.None ? "test set" : "test set (TTA)"));
            var written = EvaluationFiles.Write(outFolder, result, views, parsed.GetValue(force));
            Print(console.Out, result, views != TestTimeAugmentation.None);
            console.Out.WriteLine($"written: {string.Join(", ", written)}");
            return Program.Success;
        });
        return command;
    }

    static (TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, Data.Normalization) FromCheckpoint(Session session, string folder)
    {
        var (model, state) = session.LoadModel(folder);
        session.CheckClassesMatch(state, folder);
        return (model, state.Normalization);
    }

    /// <summary>An exported ONNX model on ONNX Runtime, as a network the evaluator runs like any other (its graph normalises).</summary>
    static (TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, Data.Normalization) FromOnnx(Session session, string file)
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

    /// <summary>A state_dict trained elsewhere: the named network, its weights from the file, the data's own statistics;
    /// in fp32, as the weights were made (a checkpoint of this tool records its own precision).</summary>
    static (TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, Data.Normalization) FromWeights(Session session, TrainConfig config, string file)
    {
        var model = session.CreateModel(config);
        Export.ModelExport.LoadPyTorch(model, file);
        model.to(session.Device);
        model.eval();
        using var train = session.Data.ReadTrain();
        return (model, session.Data.NormalizationOf(train));
    }

    public static void Print(TextWriter output, EvaluationResult result, bool tta)
    {
        output.WriteLine($"test accuracy: {result.Accuracy:P2} ({result.Count:N0} images{(tta ? ", TTA: mirror and one-pixel shifts" : "")}), loss {result.Loss:F4}");
        output.WriteLine();
        output.WriteLine("per-class accuracy:");
        foreach (var c in result.PerClass())
            output.WriteLine($"  {c.ClassName,-12} {c.Accuracy:P1}");
        output.WriteLine();
        output.WriteLine("confusion matrix (rows: true class, columns: predicted):");
        var abbreviations = result.ClassNames.Select(n => n.Length > 5 ? n[..5] : n).ToArray();
        output.WriteLine($"{"",-12}" + string.Concat(abbreviations.Select(a => $"{a,6}")));
        for (int t = 0; t < abbreviations.Length; t++)
        {
            output.Write($"{result.ClassNames[t],-12}");
            for (int p = 0; p < abbreviations.Length; p++) output.Write($"{result.Confusion[t, p],6}");
            output.WriteLine();
        }
    }
}
