using Cifar10.Training;
using Spectre.Console;

namespace Cifar10.Cli;

/// <summary>Runs long work (training, a test evaluation, lr-find, a sweep) with its progress shown the way
/// this console can show it: live bars on a terminal, plain lines in logs and pipes. The work reports
/// through the observer it is given: epochs and steps, messages, and other work as <see cref="WorkProgress"/>.</summary>
public static class TrainingConsole
{
    // Percentage, elapsed and remaining time, and the gaps between the five columns.
    const int FixedColumns = 4 + 8 + 8 + 4;

    public static T Run<T>(CliConsole console, Func<ITrainingObserver, T> work)
    {
        if (!console.Interactive)
            return work(new PlainTextObserver(console.Out));
        var (description, bar) = Layout(AnsiConsole.Profile.Width);
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = bar },
                     new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => work(new ProgressBarObserver(context, description)));
    }

    /// <summary>The widths of the description and the bar on a terminal <paramref name="width"/> columns wide:
    /// every row must fit, since a row that wraps breaks the live display (it did at 80 columns).</summary>
    public static (int Description, int Bar) Layout(int width)
    {
        width = Math.Max(60, width);
        int description = Math.Clamp(width - FixedColumns - 12, 24, 60);
        int bar = Math.Clamp(width - FixedColumns - description - 1, 6, 40);
        return (description, bar);
    }
}
