using System.Runtime.InteropServices;

namespace Cifar10.Cli;

/// <summary>
/// Ctrl-C (SIGINT) or SIGTERM (what schedulers such as Slurm and Kubernetes send first) turned into a
/// clean stop: the first signal cancels <see cref="Token"/>, and every command stops within seconds
/// wherever it is (training stops after the current step, the last checkpoint stays whole); a
/// second signal ends the process at once.
/// </summary>
public sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource stop = new();
    readonly PosixSignalRegistration interrupt, terminate;

    public StopSignals()
    {
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => stop.Token;

    void OnSignal(PosixSignalContext context)
    {
        if (stop.IsCancellationRequested) return; // the second signal: the default action ends the process
        context.Cancel = true;
        stop.Cancel();
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        stop.Dispose();
    }
}
