using System.CommandLine;
using Cifar10.Models;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`summary`: a torchinfo-style layer table of a network.</summary>
public static class SummaryCommand
{
    public static Command Build(CliConsole console)
    {
        var settings = new SettingOptions("model", "depth", "dropout");
        var batch = new Option<int>("--batch") { Description = "Batch size shown in the output shapes", DefaultValueFactory = _ => 1 };
        var command = new Command("summary", "Print a network's layers, output shapes and parameter counts") { batch };
        settings.AddTo(command);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(batch) < 1) throw new ConfigException("batch must be at least 1");
            var config = settings.Resolve(parsed);
            using var network = Trainer.CreateModel(config, classCount: 10);
            console.Out.Write(ModelSummary.Render(network, [parsed.GetValue(batch), 3, 32, 32]));
            return Program.Success;
        });
        return command;
    }
}
