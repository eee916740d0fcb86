using System.CommandLine;
using Cifar10.Runs;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`train`: every setting of <see cref="TrainSettings"/> as an option.</summary>
public static class TrainCommand
{
    public static Command Build(CliConsole console)
    {
        var settings = new SettingOptions();
        var data = CommonOptions.Data();
        var output = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/MODEL-TIMESTAMP)" };
        var force = new Option<bool>("--force")
        {
            Description = "Replace an existing run folder (only a run folder of this tool; the old run is kept until the new one has its first checkpoint)",
        };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue the run in this folder with its own settings (only --threads and --device may change)",
        };
        var initFrom = new Option<string?>("--init-from")
        {
            Description = "Start from the weights of a PyTorch state_dict file with the original network's names (e.g. trained with kuangliu's pytorch-cifar)",
        };

        var command = new Command("train", "Train a network (CIFAR-10, CIFAR-100 or an image folder); writes config, metrics, TensorBoard logs, checkpoints and a report to the run folder")
        {
            data, output, force, resume, initFrom,
        };
        settings.AddTo(command);
        command.SetAction(parsed =>
        {
            var given = settings.Given(parsed);
            TrainRequest request;
            if (parsed.GetValue(resume) is { } folder)
            {
                TrainSettings.RefuseWithResume(given.Select(g => g.Key), folder);
                if (parsed.GetValue(output) is not null || parsed.GetValue(force) || parsed.GetValue(initFrom) is not null)
                    throw new ConfigException("--resume continues a run in its own folder from its own weights; --out, --force and --init-from do not go with it");
                var machine = given.Aggregate(Recipes.Classic.Defaults, (c, g) => TrainSettings.Get(g.Key).Apply(c, g.Value));
                request = new TrainRequest
                {
                    Resume = folder,
                    Threads = given.Any(g => g.Key == "threads") ? machine.Threads : null,
                    Device = given.Any(g => g.Key == "device") ? machine.Device : null,
                    Distributed = given.Any(g => g.Key == "distributed") ? machine.Distributed : null,
                };
            }
            else
            {
                var config = TrainSettings.Resolve(given);
                request = new TrainRequest
                {
                    Config = config,
                    Out = parsed.GetValue(output) ?? RunFolder.DefaultPath(config.Model),
                    Force = parsed.GetValue(force),
                    InitFrom = parsed.GetValue(initFrom),
                };
            }
            request = request with
            {
                Data = parsed.GetValue(data),
                Download = DownloadCommand.Options(console),
                CommandLine = Environment.CommandLine,
            };
            var summary = TrainingConsole.Run(console, observer => TrainingRun.Execute(request, observer, console.Interrupt));
            if (!summary.Reports) return Program.Success; // a rank other than 0 of a distributed run
            var r = summary.Results;
            console.Out.WriteLine($"test accuracy {r.TestAccuracy:P2}{(r.TestTta ? " (TTA)" : "")} (checkpoint '{r.TestCheckpoint}'"
                                  + (double.IsNaN(r.BestValAccuracy) ? ")" : $", best val {r.BestValAccuracy:P2} at epoch {r.BestEpoch})")
                                  + $"; {r.TotalSeconds:F0}s; results and report.html in {summary.RunFolder}");
            return Program.Success;
        });
        return command;
    }
}
