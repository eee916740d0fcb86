using System.Diagnostics;
using System.Globalization;
using Cifar10.Reporting;
using Cifar10.Training;
using Spectre.Console;

namespace Cifar10.Cli;

/// <summary>Plain lines, for logs and pipes: one per epoch, plus a step line every <see cref="WorkInterval"/> during
/// long epochs; for other long work (a test evaluation, lr-find) a line when it starts, its time estimate, a line
/// every <see cref="WorkInterval"/> and one when it ends.</summary>
public sealed class PlainTextObserver(TextWriter output) : ITrainingObserver
{
    /// <summary>The longest a reader waits for a line: nothing long is silent, in a log or a pipe.</summary>
    public static readonly TimeSpan WorkInterval = TimeSpan.FromSeconds(10);

    readonly Stopwatch sinceLastLine = Stopwatch.StartNew();
    WorkTimer? work;

    public void Message(string text) => output.WriteLine(text);

    public void StepCompleted(StepProgress p)
    {
        // Long epochs on a CPU take minutes: a step line now and then shows the run moving.
        if (sinceLastLine.Elapsed < WorkInterval || p.Step == p.StepsPerEpoch) return;
        sinceLastLine.Restart();
        output.WriteLine($"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.StepsPerEpoch}  loss {p.Loss:F4}  acc {p.Accuracy:P2}  {p.ImagesPerSecond:F0} img/s");
    }

    public void EpochCompleted(EpochEnd epoch)
    {
        sinceLastLine.Restart();
        output.WriteLine(EpochLine(epoch.Metrics, epoch.LearningRates, epoch.IsBest));
    }

    public void Report(WorkProgress p)
    {
        if (p.IsStart || work is null)
        {
            work = new WorkTimer();
            output.WriteLine(WorkTimer.StartLine(p));
            sinceLastLine.Restart();
            return;
        }
        if (work.Update(p) is { } estimate)
        {
            output.WriteLine(estimate);
            sinceLastLine.Restart();
        }
        if (p.IsEnd)
        {
            output.WriteLine(work.EndLine(p));
            work = null;
        }
        else if (sinceLastLine.Elapsed >= WorkInterval)
        {
            output.WriteLine(work.Line(p));
            sinceLastLine.Restart();
        }
    }

    public static string EpochLine(EpochMetrics m, IReadOnlyList<(long Step, double LearningRate)> learningRates, bool isBest) =>
        $"epoch {m.Epoch,3}  lr {LearningRateText(learningRates.Select(r => r.LearningRate).DefaultIfEmpty(m.LearningRate).ToList())}"
        + $"  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}"
        + (double.IsNaN(m.ValAccuracy) ? "" : $"  val loss {m.ValLoss:F4} acc {m.ValAccuracy:P2}{(isBest ? " *" : "")}")
        + $"  {m.Seconds:F1}s  {m.ImagesPerSecond:F0} img/s";

    /// <summary>
    /// The learning rates of an epoch's steps as the schedule moved them: one value when it held still,
    /// "start->end" when it rose or fell, "start->peak->end" when it rose and fell within the epoch (a
    /// one-epoch warm-up and decay). The last step's rate alone said "lr 0" after a cosine epoch that
    /// trained at 0.1 most of the time.
    /// </summary>
    public static string LearningRateText(IReadOnlyList<double> rates)
    {
        static string Show(double rate) => rate.ToString("g3", CultureInfo.InvariantCulture);
        string first = Show(rates[0]), last = Show(rates[^1]);
        double peak = rates.Max();
        bool peaksInside = peak > Math.Max(rates[0], rates[^1]) && Show(peak) != first && Show(peak) != last;
        if (peaksInside) return $"{first}->{Show(peak)}->{last}";
        return first == last ? first : $"{first}->{last}";
    }
}

/// <summary>A live progress bar per epoch on a terminal, with loss, accuracy and images/s in a
/// description no wider than <paramref name="width"/>, so that no row wraps; one bar for each piece of
/// other long work (a test evaluation, lr-find), with its time estimate printed above the bars.</summary>
public sealed class ProgressBarObserver(ProgressContext context, int width) : ITrainingObserver
{
    ProgressTask? current;
    ProgressTask? work;
    WorkTimer? workTimer;

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

    public void Report(WorkProgress p)
    {
        if (p.IsStart || work is null || workTimer is null)
        {
            work = context.AddTask(Fit(p.Activity), maxValue: Math.Max(1, p.Total));
            workTimer = new WorkTimer();
            if (p.Detail is not null) Message(WorkTimer.StartLine(p));
            if (p.IsStart) return;
        }
        if (workTimer.Update(p) is { } estimate) Message(estimate);
        work.MaxValue = Math.Max(1, p.Total);
        work.Value = p.Done;
        work.Description = Fit(p.Activity, p.Detail);
        if (p.IsEnd) work.StopTask();
    }

    /// <summary>As many of the fields as fit the column (the later ones matter least; the first is cut to
    /// fit), padded to its width.</summary>
    string Fit(params string?[] fields)
    {
        var text = "";
        foreach (var field in fields)
        {
            if (field is null) continue;
            if (text.Length == 0)
            {
                text = field.Length > width ? field[..(width - 1)] + "…" : field;
                continue;
            }
            var longer = text + " " + field;
            if (longer.Length > width) break;
            text = longer;
        }
        return Markup.Escape(text.PadRight(width));
    }
}

/// <summary>
/// Times one piece of long work from its progress reports. The first report after the start pays for
/// warm-up (lazy initialisation, the first pass through every buffer), so the rate is measured from it
/// on, and the estimate is given once <see cref="MeasuredReports"/> more are in.
/// </summary>
public sealed class WorkTimer
{
    public const int MeasuredReports = 3;

    readonly Stopwatch clock = Stopwatch.StartNew();
    int reports;
    TimeSpan firstAt;
    long firstDone;

    /// <summary>Records <paramref name="p"/>; returns the estimate line once, when enough is measured and work remains.</summary>
    public string? Update(WorkProgress p)
    {
        reports++;
        if (reports == 1)
        {
            (firstAt, firstDone) = (clock.Elapsed, p.Done);
            return null;
        }
        return reports == 1 + MeasuredReports && !p.IsEnd ? EstimateLine(p) : null;
    }

    public static string StartLine(WorkProgress p) =>
        $"{p.Activity}: {DisplayFormat.Count(p.Total, p.Unit)}{(p.Detail is null ? "" : $" ({p.Detail})")}";

    /// <summary>"lr-find: about 14 min 10 s for 100 steps (8.3 s a step over steps 2-4)".</summary>
    public string EstimateLine(WorkProgress p)
    {
        double perUnit = SecondsPerUnit(p);
        double total = clock.Elapsed.TotalSeconds + perUnit * (p.Total - p.Done);
        var rate = perUnit >= 1 ? $"{perUnit:F1} s a {p.Unit}" : $"{1 / perUnit:N0} {p.Unit}s/s";
        return $"{p.Activity}: about {DisplayFormat.Duration(total)} for {DisplayFormat.Count(p.Total, p.Unit)} ({rate} over {p.Unit}s {firstDone + 1:N0}-{p.Done:N0})";
    }

    public string Line(WorkProgress p)
    {
        var left = p.Done > firstDone ? $", about {DisplayFormat.Duration(SecondsPerUnit(p) * (p.Total - p.Done))} left" : "";
        return $"{p.Activity}: {p.Done:N0}/{DisplayFormat.Count(p.Total, p.Unit)}, {DisplayFormat.Duration(clock.Elapsed.TotalSeconds)}{left}"
               + (p.Detail is null ? "" : $"  {p.Detail}");
    }

    public string EndLine(WorkProgress p) =>
        $"{p.Activity}: {DisplayFormat.Count(p.Done, p.Unit)} in {DisplayFormat.Duration(clock.Elapsed.TotalSeconds)}" + (p.Detail is null ? "" : $"; {p.Detail}");

    double SecondsPerUnit(WorkProgress p) => (clock.Elapsed - firstAt).TotalSeconds / Math.Max(1, p.Done - firstDone);
}
