using System.Diagnostics;
using Cifar10.Cli;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>A stop signal on a real `train` process: it stops cleanly with exit code 130, says how
/// to resume, and leaves a whole checkpoint.</summary>
public class InterruptTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-sigint-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);


    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    [Theory]
    [InlineData(2)]  // SIGINT, Ctrl-C
    [InlineData(15)] // SIGTERM, what Slurm and Kubernetes send before killing
    public void StopSignalEndsTrainingWithACheckpointToResumeFrom(int signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = Path.Combine(root, $"run-{signal}");
        var cli = Path.Combine(AppContext.BaseDirectory, "cifar10.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { cli, "train", "--model", "simple", "--epochs", "60", "--subset", "1024", "--val-size", "256",
                             "--threads", "1", "--data", RealData.Folder, "--out", run },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        var metrics = Path.Combine(run, RunFolder.MetricsFile);
        var waited = Stopwatch.StartNew();
        while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length >= 3) && waited.Elapsed < TimeSpan.FromMinutes(2) && !process.HasExited)
            Thread.Sleep(100);
        if (process.HasExited) Assert.Fail($"train ended before it could be stopped: {stderr.Result}");
        var signalledAt = waited.Elapsed;
        Assert.Equal(0, Kill(process.Id, signal));

        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(1)), "train did not stop after SIGINT");
        Assert.True(process.ExitCode == Program.Interrupted, $"exit {process.ExitCode} after signal at {signalledAt}\n{stdout.Result}");
        Assert.Contains($"--resume {run}", stderr.Result);

        var state = Checkpoint.ReadState(Path.Combine(run, RunFolder.LastCheckpoint));
        Assert.InRange(state.Epoch, 2, 59);
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));
        _ = stdout.Result;
    }
}
