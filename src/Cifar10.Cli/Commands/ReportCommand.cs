using System.CommandLine;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Runtime;
using Cifar10.Training;

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
        var command = new Command("report", "Write the plots and report.html of a run (evaluates its test checkpoint)") { runOption, data, device };
        command.SetAction(parsed =>
        {
            var run = RunFolder.Open(parsed.GetRequiredValue(runOption));
            var manifest = run.ReadManifest();
            var target = DeviceSetup.Resolve(parsed.GetValue(device)!);
            var (model, _) = Checkpoint.LoadModel(run.Path, target);
            using var _model = model;
            var folder = DataLocator.Resolve(parsed.GetValue(data) ?? manifest.DataFolder, DownloadCommand.Options(console));
            using var test = Cifar10Reader.ReadTest(folder);
            var result = Evaluator.Evaluate(model, test, target, manifest.Config.EvalBatchSize);
            var written = RunReportBuilder.Write(run, result, test);
            console.Out.WriteLine($"test accuracy {result.Accuracy:P2}; wrote {written.Count} files, open {run.File("report.html")}");
            return Program.Success;
        });
        return command;
    }
}
