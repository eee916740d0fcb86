using System.CommandLine;
using Cifar10.Data;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`train`: every hyperparameter of <see cref="TrainConfig"/> as an option.</summary>
public static class TrainCommand
{
    public static Command Build(CliConsole console)
    {
        var options = new TrainOptions();
        var data = CommonOptions.Data();
        var output = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/MODEL-TIMESTAMP)" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing run folder" };
        var resume = new Option<string?>("--resume") { Description = "Continue the interrupted run in this folder (its config.json is used)" };

        var command = new Command("train", "Train a network on CIFAR-10; writes config, metrics, TensorBoard logs, checkpoints and a report to the run folder")
        {
            data, output, force, resume,
        };
        options.AddTo(command);
        command.SetAction(parsed =>
        {
            var config = options.ToConfig(parsed);
            var request = new TrainRequest
            {
                Config = config,
                Data = parsed.GetValue(data),
                Download = DownloadCommand.Options(console),
                Out = parsed.GetValue(output) ?? (parsed.GetValue(resume) is null ? RunFolder.DefaultPath(config.Model) : null),
                Force = parsed.GetValue(force),
                Resume = parsed.GetValue(resume),
                CommandLine = Environment.CommandLine,
            };
            return Train(console, request);
        });
        return command;
    }

    static int Train(CliConsole console, TrainRequest request)
    {
        try
        {
            var summary = TrainingConsole.Run(console, (observer, cancel) => TrainingRun.Execute(request, observer, cancel));
            var r = summary.Results;
            console.Out.WriteLine($"test accuracy {r.TestAccuracy:P2} (checkpoint '{r.TestCheckpoint}'"
                                  + (double.IsNaN(r.BestValAccuracy) ? ")" : $", best val {r.BestValAccuracy:P2} at epoch {r.BestEpoch})")
                                  + $"; {r.TotalSeconds:F0}s; results and report.html in {summary.RunFolder}");
            return Program.Success;
        }
        catch (OperationCanceledException)
        {
            console.Error.WriteLine($"interrupted; the last completed epoch is checkpointed. Continue with: cifar10 train --resume {request.Resume ?? request.Out}");
            return Program.Interrupted;
        }
    }
}
