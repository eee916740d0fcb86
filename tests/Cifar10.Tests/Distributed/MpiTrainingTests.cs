using System.Text.Json;
using Cifar10.Cli;
using Cifar10.Runs;
using Cifar10.Tests.Cli;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Distributed;

/// <summary>
/// `train` on two MPI ranks of one thread each, started by Open MPI's mpirun as a user starts it, on real data:
/// the same run as one process's, stops that reach every rank, a rank that dies, settings that cannot work.
/// A rank that exits first makes mpirun kill the others; each rank's shell reports its exit code (<see cref="Mpirun"/>).
/// In the serial collection, so that no other test shares the two cores while two ranks wait on each other.
/// </summary>
[Collection(GlobalTorchState.Name)]
public class MpiTrainingTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-mpi-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly TimeSpan Minutes = TimeSpan.FromMinutes(4);

    /// <summary>The simple network (no batch norm, no dropout) on 512 real images, batches of 64: 8 steps an epoch.</summary>
    static string[] Simple(string run, int epochs, params string[] more) =>
        ["train", "--model", "simple", "--subset", "512", "--val-size", "128", "--batch-size", "64", "--threads", "1", "--precision", "fp32",
         "--epochs", epochs.ToString(), "--data", RealData.Folder, "--out", run, .. more];

    static int MetricRows(string run) =>
        File.Exists(Path.Combine(run, RunFolder.MetricsFile)) ? File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)).Length - 1 : 0;

    static RunResults Results(string run) => JsonSerializer.Deserialize<RunResults>(File.ReadAllText(Path.Combine(run, RunFolder.ResultsFile)), JsonFiles.Options)!;

    static RunManifest Manifest(string run) => RunFolder.Open(run).ReadManifest();

    static void AssertFinishes(CliProcess mpirun, int expectedCode = 0)
    {
        Assert.True(mpirun.WaitForExit(Minutes) == expectedCode, $"mpirun: {mpirun.Out}\n{mpirun.Err}");
        Assert.Equal(Enumerable.Repeat(expectedCode, 2), Mpirun.ExitCodes(mpirun.Err).OrderBy(r => r.Key).Select(r => r.Value));
    }

    [Fact]
    public void TwoRanksTrainTheSimpleNetworkAsOneProcessDoes()
    {
        string one = Path.Combine(root, "one"), two = Path.Combine(root, "two");
        var alone = Cli.Cli.Run(Simple(one, epochs: 3));
        Assert.True(alone.Code == 0, alone.Err);
        using var mpirun = Mpirun.Start(2, Simple(two, epochs: 3));
        AssertFinishes(mpirun);

        // Float tolerance: the two ranks' gradients are summed where one process sums over the whole batch.
        var expected = RunFolder.Open(one).ReadMetrics();
        var actual = RunFolder.Open(two).ReadMetrics();
        Assert.Equal(3, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal(e.TrainLoss, a.TrainLoss, tolerance: 1e-5 * e.TrainLoss);
            Assert.Equal(e.ValLoss, a.ValLoss, tolerance: 1e-5 * e.ValLoss);
            Assert.Equal(e.TrainAccuracy, a.TrainAccuracy);
            Assert.Equal(e.ValAccuracy, a.ValAccuracy);
        }
        Assert.Equal(Results(one).TestAccuracy, Results(two).TestAccuracy, tolerance: 1e-4); // one image in 10,000
        Assert.Equal(Results(one).TestLoss, Results(two).TestLoss, tolerance: 1e-5 * Results(one).TestLoss);

        // One rank reports, and config.json records the world.
        Assert.Single(Mpirun.Lines(mpirun.Out), line => line.StartsWith("test accuracy"));
        Assert.Single(Mpirun.Lines(mpirun.Out), line => line.StartsWith("epoch   3"));
        var world = Manifest(two).Distributed!;
        Assert.Equal(2, world.WorldSize);
        Assert.Equal([0, 1], world.Ranks.Select(r => r.Rank));
        Assert.All(world.Ranks, r => Assert.Equal((Environment.MachineName, 1, 1), (r.Host, r.Threads, r.Cores))); // mpirun binds each to a core
        Assert.StartsWith("Open MPI v", world.Library);
        Assert.Contains("distributed: 2 MPI processes (Open MPI v", mpirun.Out);
        Assert.Null(Manifest(one).Distributed);
    }

    [Fact]
    public void TheFastRecipeTrainsOnTwoRanksToTheAccuracyOfOne()
    {
        string one = Path.Combine(root, "one"), two = Path.Combine(root, "two");
        string[] Fast(string run) =>
            ["train", "--model", "fast", "--subset", "750", "--val-size", "250", "--batch-size", "250", "--epochs", "3",
             "--test-tta", "false", "--threads", "1", "--data", RealData.Folder, "--out", run];
        var alone = Cli.Cli.Run(Fast(one));
        Assert.True(alone.Code == 0, alone.Err);
        using var mpirun = Mpirun.Start(2, Fast(two));
        AssertFinishes(mpirun);

        // Batch norm normalises each rank's share by its own statistics, so the runs differ beyond rounding.
        double expected = Results(one).TestAccuracy, actual = Results(two).TestAccuracy;
        Assert.InRange(expected, 0.30, 1); // 9 steps of the muon recipe (2 of its 3 epochs at 24x24): 40% on a Zen 4 VM
        Assert.InRange(actual, expected - 0.05, expected + 0.05);
    }

    [Fact]
    public void SigtermToEveryRankStopsThemAllAfterTheSameStepAndTheRunResumes()
    {
        var run = Path.Combine(root, "terminated");
        // What Slurm (scancel, the time limit) and Kubernetes do: SIGTERM to every process of the job.
        using (var mpirun = Mpirun.Start(2, Simple(run, epochs: 60)))
        {
            Assert.True(mpirun.WaitUntil(() => MetricRows(run) >= 2, Minutes), $"no epochs: {mpirun.Err}");
            foreach (int rank in new[] { 1, 0 }) CliProcess.Signal(Mpirun.RankProcess(rank, run)!.Value, CliProcess.SigTerm);
            Assert.NotNull(mpirun.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Equal(new Dictionary<int, int> { [0] = Program.Interrupted, [1] = Program.Interrupted }, Mpirun.ExitCodes(mpirun.Err));
            var error = Assert.Single(Mpirun.Lines(mpirun.Err), line => line.StartsWith("error: "));
            Assert.Contains($"Continue with: cifar10 train --resume {run}", error);
        }
        var stoppedAfter = Checkpoint.ReadState(Path.Combine(run, RunFolder.LastCheckpoint)).Epoch;
        Assert.InRange(stoppedAfter, 2, 59);
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));

        using var resumed = Mpirun.Start(2, ["train", "--resume", run]);
        AssertFinishes(resumed);
        Assert.Contains($"resuming after epoch {stoppedAfter} of 60", resumed.Out);
        Assert.Equal(Enumerable.Range(1, 60), RunFolder.Open(run).ReadMetrics().Select(m => m.Epoch));
        Assert.Equal(60, Results(run).EpochsCompleted);
    }

    [Fact]
    public void CtrlCOnMpirunStopsTheRanksWithTheLastCheckpointWhole()
    {
        var run = Path.Combine(root, "interrupted");
        // mpirun passes Ctrl-C on as SIGTERM odls_base_sigkill_timeout seconds later, and kills that long after:
        // 3 seconds each way (the default, 1, leaves a rank no time to stop after a longer step). Once one rank has
        // exited, mpirun kills the others, so only the ranks that exit first report; all after the same step.
        using var mpirun = Mpirun.Start(2, Simple(run, epochs: 600), "--mca", "odls_base_sigkill_timeout", "3");
        Assert.True(mpirun.WaitUntil(() => MetricRows(run) >= 2, Minutes), $"no epochs: {mpirun.Err}");
        mpirun.Signal(CliProcess.SigInt);

        Assert.NotNull(mpirun.WaitForExit(TimeSpan.FromMinutes(1)));
        var codes = Mpirun.ExitCodes(mpirun.Err);
        Assert.NotEmpty(codes);
        Assert.All(codes.Values, code => Assert.Equal(Program.Interrupted, code));
        var error = Assert.Single(Mpirun.Lines(mpirun.Err), line => line.StartsWith("error: "));
        Assert.Contains($"Continue with: cifar10 train --resume {run}", error);
        Assert.InRange(Checkpoint.ReadState(Path.Combine(run, RunFolder.LastCheckpoint)).Epoch, 2, 599);
    }

    [Fact]
    public void ARankKilledWithSigkillEndsTheOtherInsteadOfLeavingItWaiting()
    {
        var run = Path.Combine(root, "killed");
        using var mpirun = Mpirun.Start(2, Simple(run, epochs: 600));
        Assert.True(mpirun.WaitUntil(() => MetricRows(run) >= 1, Minutes), $"no epochs: {mpirun.Err}");
        CliProcess.Signal(Mpirun.RankProcess(1, run) ?? throw new InvalidOperationException("rank 1 is not running"), CliProcess.SigKill);

        var code = mpirun.WaitForExit(TimeSpan.FromMinutes(1));
        Assert.True(code is not null and not 0, $"mpirun: {code}\n{mpirun.Err}");
        Assert.Contains("rank 1 exited 137", mpirun.Err);
        Assert.Null(Mpirun.RankProcess(0, run)); // ended by mpirun, not left waiting for rank 1's gradients
    }

    [Fact]
    public void RanksStartedWithDifferentSettingsStopWithOneUsageError()
    {
        var run = Path.Combine(root, "mismatch");
        using var mpirun = Mpirun.StartEach(Simple(run, 1, "--lr", "0.1"), Simple(run, 1, "--lr", "0.2"));
        AssertFinishes(mpirun, Program.UsageError);
        var error = Assert.Single(Mpirun.Lines(mpirun.Err), line => line.StartsWith("error: "));
        Assert.Equal("error: rank 1 was started with other settings than rank 0: --lr 0.2 (rank 0: 0.1); every rank must run the same command on the same data", error);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void AnMpiLibraryThatSeesAnotherWorldThanItsLauncherIsRefused()
    {
        // What a launcher of one MPI starting the tool with another MPI's library looks like: each process alone.
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", [CliProcess.Dll, .. Simple(Path.Combine(root, "alone"), 1)]);
        start.Environment["OMPI_COMM_WORLD_RANK"] = "0";
        start.Environment["OMPI_COMM_WORLD_SIZE"] = "2";
        using var process = new CliProcess(start);
        Assert.Equal(Program.UsageError, process.WaitForExit(Minutes));
        var error = Assert.Single(Mpirun.Lines(process.Err), line => line.StartsWith("error: "));
        Assert.StartsWith("error: the launcher started 2 processes but libmpi.so.40 (Open MPI v", error);
        Assert.EndsWith("sees 1: it is not the MPI of the launcher; run the mpirun of the same MPI", error);
    }

    [Fact]
    public void MoreRanksThanImagesInABatchIsAUsageError()
    {
        var run = Path.Combine(root, "batch");
        using var mpirun = Mpirun.Start(2, ["train", "--model", "simple", "--batch-size", "1", "--subset", "64", "--threads", "1",
                                            "--data", RealData.Folder, "--out", run]);
        AssertFinishes(mpirun, Program.UsageError);
        var error = Assert.Single(Mpirun.Lines(mpirun.Err), line => line.StartsWith("error: "));
        Assert.Contains("batch size 1 is smaller than the 2 MPI processes", error);
        Assert.False(Directory.Exists(run));
    }
}
