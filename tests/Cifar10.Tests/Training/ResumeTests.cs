using Cifar10.Data;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runs;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

[Collection(GlobalTorchState.Name)]
public class ResumeTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-resume-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly TrainConfig Config = new()
    {
        Model = "deep", Epochs = 3, BatchSize = 32, LearningRate = 0.05, Seed = 7, Threads = 1,
        Cutout = 8, Schedule = ScheduleKind.OneCycle, EvalBatchSize = 64,
    };

    /// <summary>The fast recipe at toy size: 5 steps per epoch, averaging from the second epoch on,
    /// the whitening bias trained in the first only.</summary>
    static readonly TrainConfig FastConfig = Configs.Fast with
    {
        Epochs = 4, BatchSize = 32, Seed = 7, Threads = 1, EvalBatchSize = 64, TestTta = false,
    };

    static nn.Module<Tensor, Tensor> FreshModel(TrainConfig config)
    {
        torch.manual_seed(config.Seed);
        return ModelCatalog.Create(config.Model, new ModelOptions());
    }

    /// <summary>Cancels training right after the given epoch has been checkpointed.</summary>
    sealed class StopAfter(int epoch, CancellationTokenSource source) : ITrainingObserver
    {
        public void EpochCompleted(EpochEnd end)
        {
            if (end.Metrics.Epoch == epoch) source.Cancel();
        }
    }

    /// <summary>Trains in <paramref name="run"/> as `train` does: the run folder is the observer that writes.</summary>
    static TrainingOutcome Fit(TrainConfig config, nn.Module<Tensor, Tensor> model, ImageDataset train, ImageDataset validation,
                               RunFolder run, CancellationToken cancellation, ITrainingObserver? extra = null) =>
        new Trainer(config, model, CPU).Fit(train, validation, new Observers(new RunFolderObserver(run), extra ?? SilentObserver.Instance),
                                            cancellation, Checkpoint.ResumeFrom(run.Last));

    [Fact]
    public void InterruptedAndResumedRunEndsWithTheSameMetricsAndWeights() => AssertResumeIsExact(Config, stopAfter: 1, "classic");

    [Fact]
    public void TheFastRecipeResumesExactlyThroughWeightAveraging()
    {
        Assert.True(Lookahead.IsActiveAfter(2, 5, FastConfig.Epochs)); // stopping after epoch 2 loses an average that must be rebuilt
        AssertResumeIsExact(FastConfig, stopAfter: 2, "fast");
    }

    void AssertResumeIsExact(TrainConfig config, int stopAfter, string name)
    {
        torch.set_num_threads(1);
        using var train = TinyData.Make(160, seed: 1);
        using var validation = TinyData.Make(64, seed: 2);

        var straight = RunFolder.Create(Path.Combine(root, name + "-straight"), replace: false);
        using (var model = FreshModel(config))
            Fit(config, model, train, validation, straight, CancellationToken.None);

        var interrupted = RunFolder.Create(Path.Combine(root, name + "-interrupted"), replace: false);
        using (var stop = new CancellationTokenSource())
        using (var model = FreshModel(config))
        {
            Assert.ThrowsAny<OperationCanceledException>(() =>
                Fit(config, model, train, validation, interrupted, stop.Token, new StopAfter(stopAfter, stop)));
        }
        Assert.Equal(stopAfter, interrupted.ReadMetrics().Count);
        using (var model = FreshModel(config))
            Fit(config, model, train, validation, interrupted, CancellationToken.None);

        var expected = straight.ReadMetrics();
        var actual = interrupted.ReadMetrics();
        Assert.Equal(config.Epochs, expected.Count);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Epoch, actual[i].Epoch);
            Assert.Equal(expected[i].LearningRate, actual[i].LearningRate);
            Assert.Equal(expected[i].TrainLoss, actual[i].TrainLoss);
            Assert.Equal(expected[i].TrainAccuracy, actual[i].TrainAccuracy);
            Assert.Equal(expected[i].ValLoss, actual[i].ValLoss);
            Assert.Equal(expected[i].ValAccuracy, actual[i].ValAccuracy);
        }
        Assert.Equal(LearningRateCsv.Read(straight.File(RunFolder.LearningRateFile)),
                     LearningRateCsv.Read(interrupted.File(RunFolder.LearningRateFile)));

        using var a = FreshModel(config);
        using var b = FreshModel(config);
        Checkpoint.LoadWeights(a, straight.Last);
        Checkpoint.LoadWeights(b, interrupted.Last);
        foreach (var ((key, ta), (_, tb)) in a.state_dict().Zip(b.state_dict()))
            Assert.True(ta.Same(tb), $"{key} differs after resume");
    }

    [Fact]
    public void TrainingLearnsTheTinyTaskAndWritesItsFiles()
    {
        using var train = TinyData.Make(320, seed: 3);
        using var validation = TinyData.Make(100, seed: 4);
        var run = RunFolder.Create(Path.Combine(root, "learns"), replace: false);
        var config = Config with { Model = "simple", Epochs = 4, Cutout = 0, LearningRate = 0.05, Schedule = ScheduleKind.Constant };
        torch.manual_seed(1);
        using var model = ModelCatalog.Create("simple", new ModelOptions());
        var outcome = Fit(config, model, train, validation, run, CancellationToken.None);

        Assert.True(outcome.BestValAccuracy > 0.5, $"validation accuracy {outcome.BestValAccuracy:P1} should be far above 10% chance");
        Assert.True(File.Exists(Path.Combine(run.Last, Checkpoint.ModelFile)));
        Assert.True(File.Exists(Path.Combine(run.Best, Checkpoint.StateFile)));
        Assert.NotEmpty(Directory.GetFiles(run.File(RunFolder.TensorBoardFolder), "events.out.tfevents*", SearchOption.AllDirectories));
        var header = File.ReadLines(run.File(RunFolder.MetricsFile)).First();
        Assert.Equal("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s,step_images_per_s,rss_mib", header);
        Assert.Equal(4, run.ReadMetrics().Count);
    }

    [Fact]
    public void ExistingRunFolderIsNotOverwrittenWithoutForce()
    {
        var path = Path.Combine(root, "kept");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "metrics.csv"), "precious");
        var e = Assert.Throws<ConfigException>(() => RunFolder.Create(path, replace: false));
        Assert.Contains("--force", e.Message);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(path, "metrics.csv")));
        // Not a run folder (no config.json): not even --force replaces it.
        e = Assert.Throws<ConfigException>(() => RunFolder.Create(path, replace: true));
        Assert.Contains("not a run folder", e.Message);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(path, "metrics.csv")));
    }
}
