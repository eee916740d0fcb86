using System.CommandLine;
using Cifar10.Models;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`models`: the networks this tool knows, where they come from and the recipe each trains with, then the recipes.</summary>
public static class ModelsCommand
{
    public static Command Build(CliConsole console)
    {
        var command = new Command("models", "List the available networks and training recipes");
        command.SetAction(_ =>
        {
            foreach (var info in ModelCatalog.All)
                console.Out.WriteLine($"{info.Name,-18} {info.Description} (reported: {info.ReportedAccuracy}; {info.Source}; recipe: {info.DefaultRecipe})");
            console.Out.WriteLine();
            console.Out.WriteLine("recipes (--recipe NAME; each network's default above):");
            foreach (var recipe in Recipes.All)
                console.Out.WriteLine($"{recipe.Name,-18} {recipe.Description}");
            return Program.Success;
        });
        return command;
    }
}
