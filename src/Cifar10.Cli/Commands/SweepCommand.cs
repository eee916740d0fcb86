using System.CommandLine;
using Cifar10.Sweeps;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`sweep`: train once per combination of the varied settings, then compare.</summary>
public static class SweepCommand
{
    public static Command Build(CliConsole console)
    {
        var settings = new SettingOptions();
        var vary = new Option<string[]>("--vary")
        {
            Description = "A setting and its values, e.g. --vary lr=0.1,0.01 --vary batch-size=32,128 (any train option's name; "
                          + "a list value is written with spaces: --vary \"milestones=10 20,30 60\")",
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
        settings.AddTo(command);
        command.SetAction(parsed =>
        {
            var given = settings.Given(parsed);
            var varied = parsed.GetRequiredValue(vary).Select(VariedSetting.Parse).ToList();
            var model = given.FirstOrDefault(g => g.Key == "model").Value
                        ?? (varied.Any(v => v.Name == "model") ? "models" : TrainSettings.DefaultModel);
            var request = new SweepRequest
            {
                BaseSettings = given,
                Varied = varied,
                Grid = !parsed.GetValue(list),
                Folder = parsed.GetValue(output) ?? Path.Combine("sweeps", $"{model}-{DateTime.Now:yyyyMMdd-HHmmss}"),
                Data = parsed.GetValue(data),
                Download = DownloadCommand.Options(console),
                TrialIndex = parsed.GetValue(trialIndex),
                CommandLine = Environment.CommandLine,
            };
            try
            {
                var outcomes = TrainingConsole.Run(console, observer =>
                    SweepRunner.Run(request, _ => observer, console.Out.WriteLine, console.Interrupt));
                if (SweepRunner.ResultsTable(request) is { } table)
                {
                    console.Out.WriteLine();
                    console.Out.WriteLine(table);
                    console.Out.WriteLine();
                }
                console.Out.WriteLine($"sweep folder {request.Folder}: {outcomes.Count(o => o.Status != TrialStatus.RunningElsewhere)} trial(s) done here; "
                                      + "results.md and index.html compare the finished ones");
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
