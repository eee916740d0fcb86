using Cifar10.Cli;
using Cifar10.Data;
using Cifar10.Distributed;
using Cifar10.Evaluation;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Distributed;

/// <summary>What the ranks of a distributed run agree on, with ranks as threads (<see cref="ThreadWorld"/>): the
/// real MPI launch is <see cref="MpiTrainingTests"/>.</summary>
[Collection(GlobalTorchState.Name)]
public class DataParallelTests
{
    static readonly TrainConfig Simple = new()
    {
        Model = "simple", Epochs = 3, BatchSize = 32, LearningRate = 0.05, Seed = 3, Threads = 1,
        Schedule = ScheduleKind.Cosine, EvalBatchSize = 20, HorizontalFlip = true, RandomCrop = true,
        // fp32: a bf16 convolution's rounding depends on how oneDNN blocks the batch, which a rank's share changes.
        Precision = PrecisionMode.Fp32,
    };

    /// <summary>A rank of a world of <paramref name="size"/> that only knows who it is (no collective may run).</summary>
    sealed class Alone(int rank, int size) : ICommunicator
    {
        public int Rank => rank;
        public int Size => size;
        public void Sum(Span<float> values) => throw new InvalidOperationException();
        public void Sum(Span<double> values) => throw new InvalidOperationException();
        public void Sum(Span<long> values) => throw new InvalidOperationException();
        public void Broadcast(Span<byte> data, int root) => throw new InvalidOperationException();
        public byte[] Gather(ReadOnlySpan<byte> mine) => throw new InvalidOperationException();
    }

    [Theory]
    [InlineData(64, 2)]
    [InlineData(65, 2)]
    [InlineData(7, 3)]
    [InlineData(2000, 16)]
    public void TheSharesOfABatchAreContiguousDisjointAndAlmostEqual(int batch, int ranks)
    {
        var shares = Enumerable.Range(0, ranks).Select(r => new DataParallel(new Alone(r, ranks)).ShareOf(batch)).ToList();
        Assert.Equal(0, shares[0].Start);
        for (int r = 1; r < ranks; r++) Assert.Equal(shares[r - 1].Start + shares[r - 1].Length, shares[r].Start);
        Assert.Equal(batch, shares.Sum(s => s.Length));
        Assert.InRange(shares.Max(s => s.Length) - shares.Min(s => s.Length), 0, 1);
    }

    [Fact]
    public void ALastBatchTooShortForTwoImagesPerRankIsDropped()
    {
        Assert.Equal(Trainer.StepsPerEpoch(129, 64), Trainer.StepsPerEpoch(129, 64, ranks: 1)); // one process: as before
        Assert.Equal(2, Trainer.StepsPerEpoch(131, 64, ranks: 2));
        Assert.Equal(3, Trainer.StepsPerEpoch(132, 64, ranks: 2));
        Assert.Equal(2, Trainer.StepsPerEpoch(128, 64, ranks: 2));
    }

    [Fact]
    public void EveryRankGetsTheSameThreadsUnlessToldAndACrowdedRankIsNamed()
    {
        // 16 cores shared by 2 ranks on one machine, 8 cores alone on another: 8 threads everywhere.
        Assert.Equal([8, 8, 8], MpiLaunch.ThreadsOfEachRank([(0, 8), (0, 8), (0, 8)]));
        Assert.Equal([1, 1], MpiLaunch.ThreadsOfEachRank([(0, 1), (0, 4)]));
        Assert.Equal([3, 1], MpiLaunch.ThreadsOfEachRank([(3, 1), (0, 4)]));

        var world = new DistributedInfo(2, "Open MPI v4.1.4", [new(0, "a", 1, 1), new(1, "b", 4, 1)]);
        Assert.Equal("distributed: 2 MPI processes (Open MPI v4.1.4) on 2 machines, 1/4 threads each; batch 128 is the global batch\n" +
                     "warning: rank 1 runs 4 threads on the 1 core it may use (mpirun binds a rank to one core by default: give it --map-by slot:PE=4, or --bind-to none)",
                     world.Describe(128));
    }

    [Fact]
    public void TwoRanksTrainTheSameNetworkAsOneProcess()
    {
        torch.set_num_threads(1);
        using var train = TinyData.Make(100, seed: 1); // batches of 32, 32, 32 and a last one of 4
        using var validation = TinyData.Make(50, seed: 2);
        using var single = Trainer.CreateModel(Simple, 10);
        var alone = new Recorder();
        new Trainer(Simple, single, CPU).Fit(train, validation, alone, CancellationToken.None);

        var models = Enumerable.Range(0, 2).Select(_ => Trainer.CreateModel(Simple, 10)).ToArray();
        var ranks = ThreadWorld.Run(2, parallel =>
        {
            var recorder = new Recorder();
            new Trainer(Simple, models[parallel.Rank], CPU, normalization: null, parallel: parallel).Fit(train, validation, recorder, CancellationToken.None);
            return recorder;
        });

        Assert.All(ranks, r => Assert.Null(r.Error));
        foreach (var (result, _) in ranks)
        {
            Assert.Equal(alone.Epochs.Count, result!.Epochs.Count);
            foreach (var (expected, actual) in alone.Epochs.Zip(result.Epochs))
            {
                Assert.Equal(expected.TrainLoss, actual.TrainLoss, tolerance: 1e-5 * expected.TrainLoss);
                Assert.Equal(expected.TrainAccuracy, actual.TrainAccuracy);
                Assert.Equal(expected.ValLoss, actual.ValLoss, tolerance: 1e-5 * expected.ValLoss);
                Assert.Equal(expected.ValAccuracy, actual.ValAccuracy);
            }
        }
        foreach (var ((name, expected), (_, actual)) in single.named_parameters().Zip(models[1].named_parameters()))
            Assert.True(expected.allclose(actual, rtol: 1e-4, atol: 1e-6), $"{name} differs from the single process's");
        foreach (var ((name, a), (_, b)) in models[0].named_parameters().Zip(models[1].named_parameters()))
            Assert.True(a.Same(b), $"{name} differs between the ranks");
        foreach (var model in models) model.Dispose();
    }

    sealed class Recorder : ITrainingObserver
    {
        public readonly List<Cifar10.Reporting.EpochMetrics> Epochs = [];
        public void EpochCompleted(EpochEnd epoch) => Epochs.Add(epoch.Metrics);
    }

    [Fact]
    public void ShardedEvaluationIsTheWholeSetsOnEveryRank()
    {
        using var data = TinyData.Make(53, seed: 4); // 27 and 26 images, in batches of 10 (3 rounds, the last of 7 and 6)
        using var model = Trainer.CreateModel(Simple, 10);
        var whole = Evaluator.Evaluate(model, data, CPU, batchSize: 10);

        var ranks = ThreadWorld.Run(2, parallel => parallel.Evaluate(data, 10, shard => Evaluator.Evaluate(model, shard, CPU, batchSize: 10)));

        foreach (var (result, error) in ranks)
        {
            Assert.Null(error);
            Assert.Equal(whole.Accuracy, result!.Accuracy);
            Assert.Equal(whole.Loss, result.Loss, tolerance: 1e-6);
            Assert.Equal(whole.Confusion, result.Confusion);
            Assert.Equal(whole.TrueLabels, result.TrueLabels);
            Assert.Equal(whole.Predictions, result.Predictions);
            Assert.All(whole.Confidences.Zip(result.Confidences), c => Assert.Equal(c.First, c.Second, tolerance: 1e-5f)); // other batches, other rounding
        }
    }

    [Fact]
    public void AStopAskedOfOneRankStopsEveryRankAfterTheSameStep()
    {
        using var stop = new CancellationTokenSource();
        var ranks = ThreadWorld.Run(2, parallel =>
        {
            var agreed = parallel.Follow(parallel.Rank == 1 ? stop.Token : CancellationToken.None);
            var before = (agreed.IsCancellationRequested, parallel.AgreeOnStep(1, 1));
            if (parallel.Rank == 1) stop.Cancel();
            var (loss, correct) = parallel.AgreeOnStep(2.5, 3);
            return (before, loss, correct, agreed.IsCancellationRequested);
        });
        foreach (var (result, error) in ranks)
        {
            Assert.Null(error);
            Assert.Equal((false, (2.0, 2L)), result.before); // each rank's figures summed, no stop asked yet
            Assert.Equal((5.0, 6L, true), (result.loss, result.correct, result.IsCancellationRequested));
        }
    }

    [Fact]
    public void AStopAgreedAtTheLastStepEndsTheEvaluationOnEveryRankAlike()
    {
        using var data = TinyData.Make(1, seed: 5); // rank 0's share is empty
        using var model = Trainer.CreateModel(Simple, 10);
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var ranks = ThreadWorld.Run(2, parallel =>
        {
            var agreed = parallel.Follow(parallel.Rank == 1 ? stop.Token : CancellationToken.None);
            parallel.AgreeOnStep(0, 0); // the epoch's last step
            return parallel.Evaluate(data, 10, shard => Evaluator.Evaluate(model, shard, CPU, batchSize: 10, cancellation: agreed));
        });
        Assert.All(ranks, r => Assert.IsAssignableFrom<OperationCanceledException>(r.Error));
    }

    [Fact]
    public void WeightsThatDifferBetweenRanksStopEveryRank()
    {
        var models = Enumerable.Range(0, 2).Select(_ => Trainer.CreateModel(Simple, 10)).ToArray();
        using (no_grad()) models[1].parameters().Last().add_(1e-3f);
        var ranks = ThreadWorld.Run(2, parallel =>
        {
            parallel.EndEpoch(models[parallel.Rank], epoch: 4);
            return true;
        });
        foreach (var (_, error) in ranks)
        {
            var e = Assert.IsType<DistributedException>(error);
            Assert.Contains("after epoch 4 the weights of rank 1 differ from rank 0's", e.Message);
        }
    }

    [Fact]
    public void BatchNormStatisticsAreRankZerosAfterAnEpochAndTheNetworkStartsAsRankZeros()
    {
        var models = Enumerable.Range(0, 2).Select(r =>
        {
            torch.manual_seed(r); // different initial weights on each rank
            return Cifar10.Models.ModelCatalog.Create("deep", new Cifar10.Models.ModelOptions());
        }).ToArray();
        using (no_grad()) models[1].named_buffers().First(b => b.name.EndsWith("running_mean")).buffer.add_(1);
        var ranks = ThreadWorld.Run(2, parallel =>
        {
            parallel.StartFromMain(models[parallel.Rank]);
            parallel.EndEpoch(models[parallel.Rank], epoch: 1);
            return true;
        });
        Assert.All(ranks, r => Assert.Null(r.Error));
        foreach (var ((name, a), (_, b)) in models[0].state_dict().Zip(models[1].state_dict()))
            Assert.True(a.Same(b), $"{name} differs between the ranks");
    }

    [Fact]
    public void AFailureOfRankZeroWhilePreparingEndsEveryRankWithItsKind()
    {
        var ranks = ThreadWorld.Run(2, parallel => parallel.OnMain<string>(() => throw new ConfigException("run x exists")));
        var main = Assert.IsType<ConfigException>(ranks[0].Error);
        Assert.Equal("run x exists", main.Message);
        var other = Assert.IsType<ReportedByRankZeroException>(ranks[1].Error);
        Assert.IsType<ConfigException>(other.InnerException);

        var fine = ThreadWorld.Run(2, parallel => parallel.OnMain(() => parallel.Rank == 0 ? "rank 0's" : "never run"));
        Assert.All(fine, r => Assert.Equal("rank 0's", r.Result));
    }

    [Fact]
    public void SettingsThatDifferBetweenRanksAreAUsageErrorOnEveryRank()
    {
        var ranks = ThreadWorld.Run(3, parallel =>
        {
            var config = parallel.Rank == 2 ? Simple with { LearningRate = 0.2, Threads = 4 } : Simple;
            parallel.EnsureSameRun(config, "abcdef0123456789");
            return true;
        });
        foreach (var (_, error) in ranks)
        {
            var e = Assert.IsType<ConfigException>(error);
            Assert.Equal("rank 2 was started with other settings than rank 0: --lr 0.2 (rank 0: 0.05); every rank must run the same command on the same data", e.Message);
        }

        var threadsOnly = ThreadWorld.Run(2, parallel =>
        {
            parallel.EnsureSameRun(Simple with { Threads = parallel.Rank + 1 }, "same data"); // threads are the machine's
            return true;
        });
        Assert.All(threadsOnly, r => Assert.Null(r.Error));
    }

    [Fact]
    public void GradientsAreSummedOverTheRanksAndAParameterWithoutOneKeepsNone()
    {
        // Each rank's gradient comes weighted by its share of the batch (TrainingStep weights the loss): 1 image of 4 here, 3 there.
        var models = Enumerable.Range(0, 2).Select(_ => nn.Sequential(nn.Linear(2, 1, hasBias: false), nn.Linear(1, 1, hasBias: false))).ToArray();
        float[][] gradients = [[0.25f * 1, 0.25f * 2], [0.75f * 4, 0.75f * 8]];
        var ranks = ThreadWorld.Run(2, parallel =>
        {
            var (first, frozen) = (models[parallel.Rank].parameters().First(), models[parallel.Rank].parameters().Last());
            first.grad = tensor(gradients[parallel.Rank]).view(1, 2);
            using var allReduce = parallel.Gradients(models[parallel.Rank])!;
            allReduce.Sum();
            return (first.grad!.data<float>().ToArray(), frozen.grad is null);
        });
        Assert.All(ranks, r =>
        {
            Assert.Equal([0.25f * 1 + 0.75f * 4, 0.25f * 2 + 0.75f * 8], r.Result.Item1);
            Assert.True(r.Result.Item2);
        });
    }

    [Fact]
    public void OneProcessAloneNeedsNoLauncherUnlessMpiIsAsked()
    {
        string? None(string _) => null;
        Assert.Same(DataParallel.SingleProcess, MpiLaunch.Start(DistributedMode.Auto, None));
        Assert.Same(DataParallel.SingleProcess, MpiLaunch.Start(DistributedMode.Off, v => v == "OMPI_COMM_WORLD_RANK" ? "1" : null));
        var e = Assert.Throws<ConfigException>(() => MpiLaunch.Start(DistributedMode.Mpi, None));
        Assert.Contains("not started by an MPI launcher", e.Message);
        var srun = Assert.Throws<ConfigException>(() => MpiLaunch.Start(DistributedMode.Auto, v => v == "SLURM_STEP_NUM_TASKS" ? "4" : null));
        Assert.Contains("srun started 4 tasks without MPI", srun.Message);
    }

    [Fact]
    public void DistributedMpiWithoutALauncherIsAOneLineUsageError()
    {
        var (code, _, err) = Cli.Cli.Run("train", "--distributed", "mpi", "--model", "simple", "--data", "/nonexistent");
        Assert.Equal(Program.UsageError, code);
        Assert.Equal("error: --distributed mpi: this process was not started by an MPI launcher; run it as `mpirun -n N cifar10 train ...` (or `srun --mpi=pmix` under Slurm)",
                     err.Trim());
    }

    [Fact]
    public void NoMpiLibraryIsAClearError()
    {
        var e = Assert.Throws<DistributedException>(() => MpiLibrary.Load((IReadOnlyList<string>)["libmpi-that-is-not-there.so.40"]));
        Assert.StartsWith("no MPI library found (libmpi-that-is-not-there.so.40): install Open MPI", e.Message);
    }

    [Theory]
    [InlineData("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022", false)]
    [InlineData("MPICH Version:      4.0.2", true)]
    [InlineData("Intel(R) MPI Library 2021.10 for Linux* OS", true)]
    [InlineData("MVAPICH2 Version      :	2.3.7", true)]
    public void TheMpichFamilyIsRecognisedByItsVersionText(string version, bool mpich) =>
        Assert.Equal(mpich, MpiLibrary.IsMpichAbi(version));
}
