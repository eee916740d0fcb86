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

    public void EpochCompleted(EpochMetrics m, bool isBest)
    {
        sinceLastLine.Restart();
        output.WriteLine(EpochLine(m, isBest));
    }

    public static string EpochLine(EpochMetrics m, bool isBest) =>
        $"epoch {m.Epoch,3}  lr {m.LearningRate:G3}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}"
        + (double.IsNaN(m.ValAccuracy) ? "" : $"  val loss {m.ValLoss:F4} acc {m.ValAccuracy:P2}{(isBest ? " *" : "")}")
        + $"  {m.Seconds:F1}s  {m.ImagesPerSecond:F0} img/s";
}

/// <summary>A live progress bar per epoch on a terminal, with loss, accuracy and images/s.</summary>
public sealed class ProgressBarObserver(ProgressContext context) : ITrainingObserver
{
    ProgressTask? current;

    public void Message(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));

    public void EpochStarted(int epoch, int epochs, int stepsPerEpoch)
    {
        current = context.AddTask($"epoch {epoch}/{epochs}", maxValue: stepsPerEpoch);
    }

    public void StepCompleted(StepProgress p)
    {
        if (current is null) return;
        current.Value = p.Step;
        current.Description = $"epoch {p.Epoch}/{p.Epochs} loss {p.Loss:F3} acc {p.Accuracy:P1} {p.ImagesPerSecond:F0} img/s";
    }

    public void EpochCompleted(EpochMetrics m, bool isBest)
    {
        if (current is not null)
        {
            current.Description = Markup.Escape(PlainTextObserver.EpochLine(m, isBest));
            current.StopTask();
        }
    }
}
