using System.CommandLine;
using Cifar10.Data;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runtime;
using Cifar10.Sweeps;
using Cifar10.Training;
using TorchSharp;

namespace Cifar10.Cli.Commands;

/// <summary>`lr-find`: fastai's learning-rate finder.</summary>
public static class LearningRateFinderCommand
{
    public static Command Build(CliConsole console)
    {
        var options = new TrainOptions();
        var start = new Option<double>("--start") { Description = "Smallest learning rate tried", DefaultValueFactory = _ => 1e-7 };
        var end = new Option<double>("--end") { Description = "Largest learning rate tried", DefaultValueFactory = _ => 10 };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps (one learning rate each)", DefaultValueFactory = _ => 100 };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for lr_find.csv and lr_find.png (default lr-find/MODEL-TIMESTAMP)" };
        var data = CommonOptions.Data();
        var command = new Command("lr-find", "Sweep the learning rate exponentially for a few steps, plot loss against it and suggest a value")
        {
            start, end, steps, output, data,
        };
        options.AddTo(command);
        command.SetAction(parsed =>
        {
            var config = options.ToConfig(parsed).Validated();
            DeviceSetup.SetThreads(config.Threads);
            var device = DeviceSetup.Resolve(config.Device);
            var folder = DataLocator.Resolve(parsed.GetValue(data), DownloadCommand.Options(console));
            using var train = Cifar10Reader.ReadTrain(folder);
            torch.manual_seed(config.Seed);
            using var model = ModelCatalog.Create(config.Model, new ModelOptions(train.ClassNames.Count, config.Dropout, config.Depth));
            var result = LearningRateFinder.Run(model, train, config, device, parsed.GetValue(start), parsed.GetValue(end), parsed.GetValue(steps));

            var outFolder = parsed.GetValue(output) ?? Path.Combine("lr-find", $"{config.Model}-{DateTime.Now:yyyyMMdd-HHmmss}");
            Directory.CreateDirectory(outFolder);
            var csv = Path.Combine(outFolder, "lr_find.csv");
            File.WriteAllLines(csv, result.Points.Select(p => FormattableString.Invariant($"{p.Lr:R},{p.Loss:R}")).Prepend("lr,loss"));
            var plot = Path.Combine(outFolder, "lr_find.png");
            Plots.LearningRateFinder(plot, result.Points, result.Suggested);
            console.Out.WriteLine($"suggested learning rate: {result.Suggested:G3} (steepest descent of the smoothed loss)");
            console.Out.WriteLine($"written: {csv}, {plot}");
            return Program.Success;
        });
        return command;
    }
}
