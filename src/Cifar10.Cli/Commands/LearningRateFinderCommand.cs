using System.CommandLine;
using Cifar10.Runs;
using Cifar10.Sweeps;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`lr-find`: fastai's learning-rate finder.</summary>
public static class LearningRateFinderCommand
{
    public static Command Build(CliConsole console)
    {
        var settings = new SettingOptions(LearningRateFinder.Uses);
        var start = new Option<string>("--start") { Description = "Smallest learning rate tried", DefaultValueFactory = _ => "1e-7" };
        var end = new Option<string>("--end") { Description = "Largest learning rate tried", DefaultValueFactory = _ => "10" };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps (one learning rate each)", DefaultValueFactory = _ => 100 };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for lr_find.csv and lr_find.png (default lr-find/MODEL-TIMESTAMP)" };
        var force = new Option<bool>("--force") { Description = "Replace the files of an earlier lr-find in that folder" };
        var data = CommonOptions.Data();
        var command = new Command("lr-find", "Sweep the learning rate exponentially for a few steps, plot loss against it and suggest a value")
        {
            start, end, steps, output, force, data,
        };
        settings.AddTo(command);
        command.SetAction(parsed =>
        {
            var config = settings.Resolve(parsed);
            // The range is read like every other number: culture-invariant, by the lr setting's own parser.
            var rate = (Setting<double>)TrainSettings.Get("lr");
            double from = rate.Parse(parsed.GetValue(start)!), to = rate.Parse(parsed.GetValue(end)!);
            var outFolder = parsed.GetValue(output) ?? Path.Combine("lr-find", $"{config.Model}-{DateTime.Now:yyyyMMdd-HHmmss}");
            LearningRateFinderFiles.CheckCanWrite(outFolder, parsed.GetValue(force)); // before the finder's steps, not after them
            using var session = Session.Open(new SessionOptions
            {
                Device = config.Device, Threads = config.Threads, Data = config.DataRequest(parsed.GetValue(data), DownloadCommand.Options(console)),
            }, console.Interrupt);
            var training = session.Training(config);
            using var model = session.CreateModel(config);
            var result = TrainingConsole.Run(console, observer =>
                LearningRateFinder.Run(model, training.Train, config, session.Device, from, to, parsed.GetValue(steps), console.Interrupt,
                                       training.Normalization, observer));

            var written = LearningRateFinderFiles.Write(outFolder, result, parsed.GetValue(force));
            console.Out.WriteLine($"suggested learning rate: {result.Suggested:G3} (steepest descent of the smoothed loss)");
            console.Out.WriteLine($"written: {string.Join(", ", written)}");
            return Program.Success;
        });
        return command;
    }
}
