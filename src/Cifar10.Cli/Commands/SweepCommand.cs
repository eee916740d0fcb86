using System.CommandLine;
using Cifar10.Sweeps;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`sweep`: train once per combination of the varied settings, then compare.</summary>
public static class SweepCommand
{
    public static Command Build(CliConsole console)
    {
        var options = new TrainOptions();
        var vary = new Option<string[]>("--vary")
        {
            Description = "A setting and its values, e.g. --vary lr=0.1,0.01 --vary batch-size=32,128 (names as the train options)",
            Required = true,
        };
        var list = new Option<bool>("--list") { Description = "Pair the i-th values of every --vary instead of trying every combination" };
        var output = new Option<string?>("--out", "-o") { Description = "Sweep folder (default sweeps/MODEL-TIMESTAMP); run the same command again to continue it" };
        var trialIndex = new Option<int?>("--trial-index")
        {
            Description = "Run only this trial (0-based): one process per trial, e.g. a Slurm array or a Kubernetes indexed Job sharing the folder",
        };
        var data = CommonOptions.Data();
        var command = new Command("sweep", "Train one run per combination of --vary values and compare them (tables, overlaid curves, index.html)")
        {
            vary, list, output, trialIndex, data,
        };
        options.AddTo(command);
        command.SetAction(parsed =>
        {
            var baseConfig = options.ToConfig(parsed);
            var request = new SweepRequest
            {
                BaseConfig = baseConfig,
                Varied = parsed.GetRequiredValue(vary).Select(VariedSetting.Parse).ToList(),
                Grid = !parsed.GetValue(list),
                Folder = parsed.GetValue(output) ?? Path.Combine("sweeps", $"{baseConfig.Model}-{DateTime.Now:yyyyMMdd-HHmmss}"),
                Data = parsed.GetValue(data),
                Download = DownloadCommand.Options(console),
                TrialIndex = parsed.GetValue(trialIndex),
                CommandLine = Environment.CommandLine,
            };
            try
            {
                var outcomes = TrainingConsole.Run(console, (observer, cancel) =>
                    SweepRunner.Run(request, _ => observer, console.Out.WriteLine, cancel));
                console.Out.WriteLine($"sweep folder {request.Folder}: {outcomes.Count(o => o.Status != TrialStatus.RunningElsewhere)} trial(s) done here; "
                                      + $"results.md and index.html compare the finished ones");
                return Program.Success;
            }
            catch (OperationCanceledException)
            {
                console.Error.WriteLine($"interrupted; run the same command again to skip finished trials and resume the unfinished one ({request.Folder})");
                return Program.Interrupted;
            }
        });
        return command;
    }
}
