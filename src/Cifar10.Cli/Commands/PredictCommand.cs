using System.CommandLine;
using Cifar10.Prediction;
using Cifar10.Runtime;

namespace Cifar10.Cli.Commands;

/// <summary>`predict`: the top classes of each image file. An unreadable file is reported and
/// the others are still answered; the exit code is then 1.</summary>
public static class PredictCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = CommonOptions.Checkpoint();
        var images = new Argument<string[]>("images") { Description = "PNG or JPEG files, any size (resized to 32×32)", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to show per image", DefaultValueFactory = _ => 3 };
        var tta = CommonOptions.Tta();
        var device = CommonOptions.Device();
        var command = new Command("predict", "Classify image files with a trained checkpoint") { checkpoint, images, top, tta, device };
        command.SetAction(parsed =>
        {
            using var predictor = new Predictor(parsed.GetRequiredValue(checkpoint), DeviceSetup.Resolve(parsed.GetValue(device)!));
            var predictions = predictor.Predict(parsed.GetRequiredValue(images), parsed.GetValue(top), parsed.GetValue(tta));
            foreach (var p in predictions)
            {
                if (!p.Succeeded)
                {
                    console.Error.WriteLine($"error: {p.Error}");
                    continue;
                }
                var ranked = string.Join("  ", p.Top.Select(c => $"{c.ClassName} {c.Probability:P1}"));
                console.Out.WriteLine($"{p.Path}: {ranked}");
            }
            return predictions.All(p => p.Succeeded) ? Program.Success : Program.Failure;
        });
        return command;
    }
}
