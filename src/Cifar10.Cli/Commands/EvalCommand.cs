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
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = CommonOptions.CheckpointOrOnnx };
        var weights = new Option<string?>("--weights")
        {
            Description = "Evaluate a PyTorch state_dict file with the original network's names instead (with --model)",
        };
        var data = CommonOptions.Data();
        // The run's own data settings and test-time augmentation unless given: eval measures as train did, so they agree.
        var settings = new SettingOptions([.. EvaluationRun.SettingNames]);
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
        settings.AddTo(command);
        command.SetAction(parsed =>
        {
            var request = new EvalRequest
            {
                Checkpoint = parsed.GetValue(checkpoint), Weights = parsed.GetValue(weights), Settings = settings.Given(parsed),
                Data = parsed.GetValue(data), Download = DownloadCommand.Options(console),
                Device = parsed.GetValue(device)!, Threads = parsed.GetValue(threads), BatchSize = parsed.GetValue(batchSize),
                Out = parsed.GetValue(output), Force = parsed.GetValue(force),
            };
            var summary = TrainingConsole.Run(console, observer => EvaluationRun.Execute(request, observer, console.Interrupt));
            Print(console.Out, summary.Result, summary.Views != TestTimeAugmentation.None);
            console.Out.WriteLine($"written: {string.Join(", ", summary.Written)}");
            return Program.Success;
        });
        return command;
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
