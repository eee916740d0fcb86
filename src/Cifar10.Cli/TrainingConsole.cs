using System.Runtime.InteropServices;
using Cifar10.Training;
using Spectre.Console;

namespace Cifar10.Cli;

/// <summary>Runs training work with progress shown the way this console can show it, and
/// Ctrl-C (SIGINT) or SIGTERM (what schedulers such as Slurm and Kubernetes send first) turned
/// into a clean stop: the first signal cancels after the current step (the last checkpoint
/// stays whole), a second one ends the process at once.</summary>
public static class TrainingConsole
{
    public static T Run<T>(CliConsole console, Func<ITrainingObserver, CancellationToken, T> work)
    {
        using var interrupt = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (interrupt.IsCancellationRequested) return;
            context.Cancel = true;
            interrupt.Cancel();
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        if (!console.Interactive)
            return work(new PlainTextObserver(console.Out), interrupt.Token);
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                     new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => work(new ProgressBarObserver(context), interrupt.Token));
    }
}
