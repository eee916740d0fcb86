using System.CommandLine;
using Cifar10.Runs;

namespace Cifar10.Cli.Commands;

/// <summary>`report`: (re)write a run's plots and report.html, from the test predictions the run kept
/// (seconds, no network), or by measuring the test set again.</summary>
public static class ReportCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = new Option<string>("--checkpoint", "-c", "--run", "-r") { Description = "The run folder", Required = true };
        var reevaluate = new Option<bool>("--reevaluate")
        {
            Description = "Measure the test set again with the run's checkpoint instead of drawing the report from the predictions the run kept",
        };
        var data = CommonOptions.Data();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("report", "Write the plots and report.html of a run, from the test predictions it kept (runs finished before they were kept, "
                                            + "and --reevaluate, measure the test set again as the run did)")
        {
            checkpoint, reevaluate, data, device, threads,
        };
        command.SetAction(parsed =>
        {
            var run = RunFolder.Open(parsed.GetRequiredValue(checkpoint));
            var manifest = run.ReadManifest();
            using var session = Session.Open(new SessionOptions
            {
                Device = parsed.GetValue(device)!, Threads = parsed.GetValue(threads),
                Data = manifest.Config.DataRequest(parsed.GetValue(data) ?? manifest.DataFolder, DownloadCommand.Options(console)),
            }, console.Interrupt);
            var outcome = TrainingConsole.Run(console, observer =>
                RunReportBuilder.Rewrite(run, session, parsed.GetValue(reevaluate), observer, console.Interrupt));
            var test = outcome.Test;
            console.Out.WriteLine($"test accuracy {test.Result.Accuracy:P2} ({test.Measurement.Describe()}); "
                                  + $"wrote {outcome.Written.Count} files, open {run.File(Reporting.RunReport.HtmlFileName)}");
            return Program.Success;
        });
        return command;
    }
}
