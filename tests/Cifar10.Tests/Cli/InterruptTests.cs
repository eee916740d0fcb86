using Cifar10.Cli;
using Cifar10.Runs;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>A stop signal on a real process, wherever it lands: the process stops within seconds
/// with exit code 130, and what it prints as the next step works.</summary>
public class InterruptTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-sigint-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);

    static int MetricRows(string run) =>
        File.Exists(Path.Combine(run, RunFolder.MetricsFile)) ? File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)).Length - 1 : 0;

    [Theory]
    [InlineData(CliProcess.SigInt)]  // Ctrl-C
    [InlineData(CliProcess.SigTerm)] // what Slurm and Kubernetes send before killing
    public void StopSignalEndsTrainingWithACheckpointToResumeFrom(int signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = Path.Combine(root, $"run-{signal}");
        using var train = Cli.Start(["train", "--epochs", "60", "--out", run, .. Cli.Tiny]);
        Assert.True(train.WaitUntil(() => MetricRows(run) >= 2, TimeSpan.FromMinutes(2)), $"no epochs: {train.Err}");
        train.Signal(signal);

        Assert.Equal(Program.Interrupted, train.WaitForExit(Soon));
        Assert.Contains($"--resume {run}", train.Err);
        var state = Checkpoint.ReadState(Path.Combine(run, RunFolder.LastCheckpoint));
        Assert.InRange(state.Epoch, 2, 59);
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));
    }

    [Fact]
    public void AnInterruptInTheFirstEpochPrintsAResumeThatWorks()
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = Path.Combine(root, "first-epoch");
        // 40,000 images at batch 8: the first epoch takes far longer than the wait below.
        using (var train = Cli.Start("train", "--model", "simple", "--epochs", "1", "--val-size", "128", "--batch-size", "8",
                                     "--threads", "1", "--data", RealData.Folder, "--out", run))
        {
            Assert.True(train.WaitUntil(() => train.Out.Contains("model: simple"), TimeSpan.FromMinutes(1)), train.Err);
            Thread.Sleep(1000);
            train.Signal(CliProcess.SigInt);
            Assert.Equal(Program.Interrupted, train.WaitForExit(Soon));
            Assert.Contains($"cifar10 train --resume {run}", train.Err);
            Assert.Contains("starts from the first", train.Err);
        }
        Assert.Equal(0, MetricRows(run));

        // The printed command works (here with a smaller job: --resume keeps the run's settings, so the
        // same folder is resumed with only the thread count changed, then stopped again at once).
        using var resumed = Cli.Start("train", "--resume", run, "--threads", "1");
        Assert.True(resumed.WaitUntil(() => resumed.Out.Contains("model: simple"), TimeSpan.FromMinutes(1)), resumed.Err);
        resumed.Signal(CliProcess.SigInt);
        Assert.Equal(Program.Interrupted, resumed.WaitForExit(Soon));
    }

    [Fact]
    public void AnInterruptDuringTheFinalTestEvaluationStopsAtOnceAndResumeFinishesTheRun()
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = Path.Combine(root, "final-eval");
        // One epoch, then the test set with six test-time views, five images at a time: seconds of evaluation.
        using (var train = Cli.Start(["train", "--epochs", "1", "--test-tta", "true", "--eval-batch-size", "5", "--out", run, .. Cli.Tiny]))
        {
            Assert.True(train.WaitUntil(() => File.Exists(Path.Combine(run, "best", Checkpoint.StateFile)), TimeSpan.FromMinutes(2)), train.Err);
            Thread.Sleep(800);
            Assert.False(train.HasExited, "the test evaluation ended before the signal: make it longer");
            train.Signal(CliProcess.SigInt);
            Assert.Equal(Program.Interrupted, train.WaitForExit(Soon));
            Assert.Contains($"--resume {run}", train.Err);
        }
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));

        var finished = Cli.Run("train", "--resume", run);
        Assert.True(finished.Code == 0, finished.Err);
        Assert.True(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));
        Assert.Equal(1, MetricRows(run)); // no epoch trained twice
    }

    [Fact]
    public void AnInterruptedDownloadSaysSoAndLeavesNoPartialFile()
    {
        if (!OperatingSystem.IsLinux()) return;
        // A server that sends part of the archive and then stalls.
        using var server = new LocalHttpServer { Body = new byte[200_000], AnnouncedLength = 170_000_000, HoldOpen = true };
        var cache = Path.Combine(root, "cache");
        using var download = Cli.Start("download", "--url", server.Url, "--cache", cache);
        Assert.True(download.WaitUntil(() => download.Out.Contains("downloading"), TimeSpan.FromSeconds(30)), download.Err);
        Thread.Sleep(500);
        download.Signal(CliProcess.SigInt);
        Assert.Equal(Program.Interrupted, download.WaitForExit(Soon));
        Assert.Contains("download interrupted", download.Err);
        Assert.Empty(Directory.Exists(cache) ? Directory.GetFiles(cache, "*", SearchOption.AllDirectories) : []);
    }
}
