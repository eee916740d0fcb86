using System.CommandLine;
using Cifar10.Models;

namespace Cifar10.Cli.Commands;

/// <summary>`summary`: a torchinfo-style layer table of a network.</summary>
public static class SummaryCommand
{
    public static Command Build(CliConsole console)
    {
        var model = new Option<string>("--model", "-m") { Description = "Network (see `models`)", Required = true };
        var depth = new Option<int>("--depth") { Description = "Conv blocks of the tutorial network (2..4)", DefaultValueFactory = _ => 3 };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout probability (networks with dropout)" };
        var batch = new Option<int>("--batch") { Description = "Batch size shown in the output shapes", DefaultValueFactory = _ => 1 };
        var command = new Command("summary", "Print a network's layers, output shapes and parameter counts") { model, depth, dropout, batch };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(batch) < 1) throw new Training.ConfigException("batch must be at least 1");
            using var network = ModelCatalog.Create(parsed.GetValue(model)!, new ModelOptions(10, parsed.GetValue(dropout), parsed.GetValue(depth)));
            console.Out.Write(ModelSummary.Render(network, [parsed.GetValue(batch), 3, 32, 32]));
            return Program.Success;
        });
        return command;
    }
}
