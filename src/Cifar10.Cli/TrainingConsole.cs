using Cifar10.Training;
using Spectre.Console;

namespace Cifar10.Cli;

/// <summary>Runs training work with progress shown the way this console can show it, and
/// Ctrl-C turned into a clean stop: the first press cancels after the current step (the last
/// checkpoint stays whole), a second one kills the process.</summary>
public static class TrainingConsole
{
    public static T Run<T>(CliConsole console, Func<ITrainingObserver, CancellationToken, T> work)
    {
        using var interrupt = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (interrupt.IsCancellationRequested) return;
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (!console.Interactive)
                return work(new PlainTextObserver(console.Out), interrupt.Token);
            return AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                         new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context => work(new ProgressBarObserver(context), interrupt.Token));
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
