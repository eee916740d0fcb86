using System.CommandLine;
using Cifar10.Evaluation;
using Cifar10.Runs;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`eval`: test accuracy, per-class accuracy and the confusion matrix of a checkpoint.</summary>
public static class EvalCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = CommonOptions.Checkpoint();
        var data = CommonOptions.Data();
        var tta = CommonOptions.Tta();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var batchSize = new Option<int>("--batch-size", "-b")
        {
            Description = "Images per forward pass (memory grows with it, accuracy does not change)",
            DefaultValueFactory = _ => Recipes.Classic.Defaults.EvalBatchSize,
        };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for the CSV files (default: eval-CHECKPOINT[-tta] in the run folder)" };
        var command = new Command("eval", "Evaluate a checkpoint on the CIFAR-10 test set") { checkpoint, data, tta, device, threads, batchSize, output };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(batchSize) < 1) throw new ConfigException("batch size must be positive");
            using var session = Session.Open(new SessionOptions
            {
                Device = parsed.GetValue(device)!, Threads = parsed.GetValue(threads),
                Data = parsed.GetValue(data), Download = DownloadCommand.Options(console),
            }, console.Interrupt);
            var folder = Checkpoint.Locate(parsed.GetRequiredValue(checkpoint));
            var (model, _) = session.LoadModel(folder);
            using var _model = model;
            var views = parsed.GetValue(tta) ? TestTimeAugmentation.MirrorTranslate : TestTimeAugmentation.None;
            var result = Evaluator.Evaluate(model, session.Test, session.Device, parsed.GetValue(batchSize), views, console.Interrupt);

            var outFolder = parsed.GetValue(output) ?? DefaultOutput(folder, views != TestTimeAugmentation.None);
            var written = EvaluationFiles.Write(outFolder, result, views);
            Print(console.Out, result, views != TestTimeAugmentation.None);
            console.Out.WriteLine($"written: {string.Join(", ", written)}");
            return Program.Success;
        });
        return command;
    }

    static string DefaultOutput(string checkpointFolder, bool tta)
    {
        var full = Path.GetFullPath(checkpointFolder);
        var parent = Path.GetDirectoryName(full)!;
        var name = "eval-" + Path.GetFileName(full) + (tta ? "-tta" : "");
        return Path.Combine(parent, name);
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
