using System.Diagnostics;
using Cifar10.Reporting;
using Cifar10.Training;
using Spectre.Console;

namespace Cifar10.Cli;

/// <summary>Plain lines, for logs and pipes: one per epoch, plus a few during long epochs.</summary>
public sealed class PlainTextObserver(TextWriter output) : ITrainingObserver
{
    readonly Stopwatch sinceLastLine = Stopwatch.StartNew();

    public void Message(string text) => output.WriteLine(text);

    public void StepCompleted(StepProgress p)
    {
        // Long epochs on a CPU take minutes: say something every 30 s so a CI log shows life.
        if (sinceLastLine.Elapsed.TotalSeconds < 30 || p.Step == p.StepsPerEpoch) return;
        sinceLastLine.Restart();
        output.WriteLine($"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.StepsPerEpoch}  loss {p.Loss:F4}  acc {p.Accuracy:P2}  {p.ImagesPerSecond:F0} img/s");
    }

    public void EpochCompleted(EpochEnd epoch)
    {
        sinceLastLine.Restart();
        output.WriteLine(EpochLine(epoch.Metrics, epoch.IsBest));
    }

    public static string EpochLine(EpochMetrics m, bool isBest) =>
        $"epoch {m.Epoch,3}  lr {m.LearningRate:G3}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}"
        + (double.IsNaN(m.ValAccuracy) ? "" : $"  val loss {m.ValLoss:F4} acc {m.ValAccuracy:P2}{(isBest ? " *" : "")}")
        + $"  {m.Seconds:F1}s  {m.ImagesPerSecond:F0} img/s";
}

/// <summary>A live progress bar per epoch on a terminal, with loss, accuracy and images/s in a
/// description no wider than <paramref name="width"/>, so that no row wraps.</summary>
public sealed class ProgressBarObserver(ProgressContext context, int width) : ITrainingObserver
{
    ProgressTask? current;

    public void Message(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));

    public void EpochStarted(int epoch, int epochs, int stepsPerEpoch)
    {
        current = context.AddTask(Fit($"epoch {epoch}/{epochs}"), maxValue: stepsPerEpoch);
    }

    public void StepCompleted(StepProgress p)
    {
        if (current is null) return;
        current.Value = p.Step;
        current.Description = Fit($"epoch {p.Epoch}/{p.Epochs}", $"loss {p.Loss:F3}", $"acc {p.Accuracy:P1}", $"{p.ImagesPerSecond:F0} img/s");
    }

    public void EpochCompleted(EpochEnd epoch)
    {
        if (current is null) return;
        var m = epoch.Metrics;
        var validation = double.IsNaN(m.ValAccuracy) ? null : $"val {m.ValAccuracy:P1}{(epoch.IsBest ? "*" : "")}";
        current.Description = Fit($"epoch {m.Epoch}", $"loss {m.TrainLoss:F3}", $"acc {m.TrainAccuracy:P1}", validation, $"{m.ImagesPerSecond:F0} img/s");
        current.Value = current.MaxValue;
        current.StopTask();
    }

    /// <summary>As many of the fields as fit the column (the later ones matter least), padded to its width.</summary>
    string Fit(params string?[] fields)
    {
        var text = "";
        foreach (var field in fields)
        {
            if (field is null) continue;
            var longer = text.Length == 0 ? field : text + " " + field;
            if (longer.Length > width) break;
            text = longer;
        }
        return Markup.Escape(text.PadRight(width));
    }
}
