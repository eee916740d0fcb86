using System.CommandLine;
using System.Text.Json;
using Cifar10.Prediction;
using Cifar10.Runs;

namespace Cifar10.Cli.Commands;

/// <summary>`predict`: the top classes of each image file. An unreadable file is reported and
/// the others are still answered; the exit code is then 1.</summary>
public static class PredictCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = CommonOptions.Checkpoint(acceptsOnnx: true);
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, BMP, WebP, GIF), any size (resized to 32×32)", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to show per image", DefaultValueFactory = _ => PredictionDefaults.Top };
        var json = new Option<bool>("--json") { Description = "One JSON object per line and file: path, top classes with probabilities, or the error" };
        var tta = CommonOptions.Tta();
        var device = CommonOptions.Device();
        var command = new Command("predict", "Classify image files with a trained checkpoint or an exported ONNX model") { checkpoint, images, top, json, tta, device };
        command.SetAction(parsed =>
        {
            using var session = Session.Open(new SessionOptions { Device = parsed.GetValue(device)! }, console.Interrupt);
            using var predictor = new Predictor(session.Classifier(parsed.GetRequiredValue(checkpoint), parsed.GetValue(tta)));
            var predictions = predictor.Predict(parsed.GetRequiredValue(images), parsed.GetValue(top));
            foreach (var p in predictions)
            {
                if (parsed.GetValue(json))
                    console.Out.WriteLine(JsonSerializer.Serialize(Json(p)));
                else if (!p.Succeeded)
                    console.Error.WriteLine($"error: {p.Error}");
                else
                    console.Out.WriteLine($"{p.Path}: {string.Join("  ", p.Top.Select(c => $"{c.ClassName} {c.Probability:P1}"))}");
            }
            return predictions.All(p => p.Succeeded) ? Program.Success : Program.Failure;
        });
        return command;
    }

    /// <summary>The JSON of one answer, its classes as the server's /predict writes them too (<see cref="ClassProbability.ToJson"/>).</summary>
    public static object Json(Cifar10.Prediction.Prediction p) => p.Succeeded
        ? new { path = p.Path, top = p.Top.Select(c => c.ToJson()) }
        : new { path = p.Path, error = p.Error };
}
