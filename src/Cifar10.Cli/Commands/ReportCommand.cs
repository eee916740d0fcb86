using System.CommandLine;
using Cifar10.Runs;

namespace Cifar10.Cli.Commands;

/// <summary>`report`: (re)write a run's plots and report.html, e.g. for a run trained before
/// reports existed or one whose report was deleted.</summary>
public static class ReportCommand
{
    public static Command Build(CliConsole console)
    {
        var runOption = new Option<string>("--run", "-r") { Description = "Run folder", Required = true };
        var data = CommonOptions.Data();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("report", "Write the plots and report.html of a run (evaluates its test checkpoint as the run did)")
        {
            runOption, data, device, threads,
        };
        command.SetAction(parsed =>
        {
            var run = RunFolder.Open(parsed.GetRequiredValue(runOption));
            var manifest = run.ReadManifest();
            using var session = Session.Open(new SessionOptions
            {
                Device = parsed.GetValue(device)!, Threads = parsed.GetValue(threads),
                Data = manifest.Config.DataRequest(parsed.GetValue(data) ?? manifest.DataFolder, DownloadCommand.Options(console)),
            }, console.Interrupt);
            var result = TestEvaluation.Run(run, manifest.Config, session, console.Interrupt);
            var written = RunReportBuilder.Write(run, result, session.Test, console.Interrupt);
            console.Out.WriteLine($"test accuracy {result.Accuracy:P2}{(manifest.Config.TestTta ? " (TTA)" : "")}; wrote {written.Count} files, open {run.File("report.html")}");
            return Program.Success;
        });
        return command;
    }
}
