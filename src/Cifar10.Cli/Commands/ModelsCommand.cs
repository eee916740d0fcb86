using System.CommandLine;
using Cifar10.Models;

namespace Cifar10.Cli.Commands;

/// <summary>`models`: the networks this tool knows, with where they come from.</summary>
public static class ModelsCommand
{
    public static Command Build(CliConsole console)
    {
        var command = new Command("models", "List the available networks");
        command.SetAction(_ =>
        {
            foreach (var info in ModelCatalog.All)
                console.Out.WriteLine($"{info.Name,-18} {info.Description} (reported: {info.ReportedAccuracy}; {info.Source})");
            return Program.Success;
        });
        return command;
    }
}
