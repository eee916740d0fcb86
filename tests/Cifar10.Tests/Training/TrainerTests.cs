using Cifar10.Models;
using Cifar10.Runs;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

/// <summary>The epoch loop on its own: it computes and reports, observers write and may stop it.</summary>
[Collection(GlobalTorchState.Name)]
public class TrainerTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-trainer-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly TrainConfig Simple = new()
    {
        Model = "simple", Epochs = 3, BatchSize = 32, LearningRate = 0.05, Seed = 3, Threads = 1,
        Schedule = ScheduleKind.Constant, EvalBatchSize = 64,
    };

    sealed class Recorder : ITrainingObserver
    {
        public readonly List<EpochEnd> Epochs = [];
        public TrainingStart? Start;
        public void TrainingStarted(TrainingStart start) => Start = start;
        public void EpochCompleted(EpochEnd epoch) => Epochs.Add(epoch);
    }

    static nn.Module<Tensor, Tensor> Model(TrainConfig config) => Trainer.CreateModel(config, classCount: 10);

    [Fact]
    public void FitWritesNothingAndReportsEveryEpochToItsObservers()
    {
        using var train = TinyData.Make(96, seed: 1);
        using var validation = TinyData.Make(32, seed: 2);
        using var model = Model(Simple);
        var recorder = new Recorder();
        var created = new List<string>();
        using var watcher = new FileSystemWatcher(Path.GetTempPath()) { IncludeSubdirectories = true, EnableRaisingEvents = true };
        using var here = new FileSystemWatcher(Environment.CurrentDirectory) { IncludeSubdirectories = true, EnableRaisingEvents = true };
        watcher.Created += (_, e) => { lock (created) created.Add(e.FullPath); };
        here.Created += (_, e) => { lock (created) created.Add(e.FullPath); };

        var outcome = new Trainer(Simple, model, CPU).Fit(train, validation, recorder, CancellationToken.None);

        Thread.Sleep(200); // let the watchers deliver
        lock (created) Assert.Empty(created);
        Assert.Equal(3, outcome.EpochsCompleted);
        Assert.Equal(new TrainingStart(1, 3, 3, 0, 96, 32), recorder.Start);
        Assert.Equal([1, 2, 3], recorder.Epochs.Select(e => e.Metrics.Epoch));
        Assert.Equal([3L, 6L, 9L], recorder.Epochs.Select(e => e.State.GlobalStep));
        Assert.Equal([0L, 1L, 2L], recorder.Epochs[0].LearningRates.Select(r => r.Step));
        Assert.All(recorder.Epochs, e => Assert.Same(model, e.Model));
    }

    [Fact]
    public void EarlyStoppingEndsTheRunAndTheBestCheckpointStays()
    {
        using var train = TinyData.Make(64, seed: 1);
        using var validation = TinyData.Make(32, seed: 2);
        // A rate too small to change anything: validation accuracy never improves after epoch 1.
        var config = Simple with { Epochs = 20, LearningRate = 1e-12, EarlyStop = 2 };
        using var model = Model(config);
        var run = RunFolder.Create(Path.Combine(root, "early"), replace: false);
        var outcome = new Trainer(config, model, CPU).Fit(train, validation, new RunFolderObserver(run), CancellationToken.None);

        Assert.Equal(3, outcome.EpochsCompleted);
        Assert.Contains("no better validation accuracy for 2 epochs", outcome.StopReason);
        Assert.Equal(1, outcome.BestEpoch);
        Assert.Equal(1, Checkpoint.ReadState(run.Best).Epoch);
        Assert.Equal(3, Checkpoint.ReadState(run.Last).Epoch);
        Assert.Equal(3, run.ReadMetrics().Count);
    }

    [Fact]
    public void GradientClippingBoundsTheUpdate()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        using var model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10));
        using var optimizer = new TorchOptimizer(optim.SGD(model.parameters(), 1.0)); // lr 1, no momentum: the update is the gradient
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var images = randn(16, 3, 32, 32) * 100; // large inputs, large gradients
        var labels = randint(0, 10, [16], dtype: int64);

        new TrainingStep(model, optimizer, labelSmoothing: 0, clipGradNorm: 0.5).Run(images, labels, learningRate: 1.0);

        var change = model.parameters().Zip(before, (p, b) => (p.detach() - b).pow(2).sum().item<float>()).Sum();
        Assert.InRange(Math.Sqrt(change), 0.01, 0.5 + 1e-4);
    }

    [Fact]
    public void ALossThatStopsBeingFiniteEndsTheRunWithTheLastGoodCheckpointKept()
    {
        using var train = TinyData.Make(64, seed: 1);
        using var validation = TinyData.Make(32, seed: 2);
        // Epoch 1 at lr 0.05, epoch 2 at 0.05·1e30: the loss overflows.
        var config = Simple with { Epochs = 3, Schedule = ScheduleKind.Step, StepEpochs = 1, Gamma = 1e30 };
        using var model = Model(config);
        var run = RunFolder.Create(Path.Combine(root, "diverged"), replace: false);
        var e = Assert.Throws<TrainingDivergedException>(() =>
            new Trainer(config, model, CPU).Fit(train, validation, new RunFolderObserver(run), CancellationToken.None));
        Assert.Contains("epoch 2", e.Message);
        Assert.Contains("last good checkpoint is from epoch 1", e.Message);
        Assert.Equal(1, Checkpoint.ReadState(run.Last).Epoch);
    }

    [Fact]
    public void BatchNormCannotTrainOnBatchesOfOne()
    {
        using var train = TinyData.Make(8, seed: 1);
        using var empty = TinyData.Make(0, seed: 2);
        var config = Simple with { Model = "deep", BatchSize = 1 };
        using var model = Model(config);
        var e = Assert.Throws<ConfigException>(() => new Trainer(config, model, CPU).Fit(train, empty, SilentObserver.Instance, CancellationToken.None));
        Assert.Contains("batch size 1", e.Message);
    }

    [Fact]
    public void CreateModelIsSeededAndInThePrecisionAsked()
    {
        var config = Configs.Fast with { Precision = PrecisionMode.Bf16 };
        using var a = Trainer.CreateModel(config, 10);
        using var b = Trainer.CreateModel(config, 10);
        Assert.Equal(ScalarType.BFloat16, ((FastNet)a).ComputeType);
        foreach (var ((name, x), (_, y)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(x.allclose(y, rtol: 0, atol: 0), $"{name} differs between two networks from the same seed");
    }

    /// <summary>A network that takes any image size and records the sides it was given in training.</summary>
    sealed class SizeRecorder : nn.Module<Tensor, Tensor>, IAnyImageSize
    {
        readonly TorchSharp.Modules.Conv2d conv = nn.Conv2d(3, 8, 3, padding: 1);
        readonly TorchSharp.Modules.Linear head = nn.Linear(8, 10);
        public readonly List<long> TrainingSides = [];

        public SizeRecorder() : base(nameof(SizeRecorder)) => RegisterComponents();

        public int SmallestImage => 4;

        public override Tensor forward(Tensor x)
        {
            if (training) TrainingSides.Add(x.shape[2]);
            return head.call(nn.functional.relu(conv.call(x)).amax([2, 3]));
        }
    }

    [Fact]
    public void ProgressiveResizingTrainsTheFirstEpochsOnDownscaledImages()
    {
        using var train = TinyData.Make(64, seed: 1);
        using var empty = TinyData.Make(0, seed: 2);
        var config = Simple with { Model = "fast", Epochs = 4, LowRes = 16, LowResFraction = 0.5, ValidationSize = 0 }; // a network that declares it
        using var model = new SizeRecorder();
        var messages = new List<string>();
        new Trainer(config, model, CPU).Fit(train, empty, new MessageRecorder(messages), CancellationToken.None);
        // 2 steps of 32 images per epoch: epochs 1 and 2 at 16 pixels, 3 and 4 at the data's 32.
        Assert.Equal([16L, 16, 16, 16, 32, 32, 32, 32], model.TrainingSides);
        Assert.Contains(messages, m => m.Contains("epochs 1-2") && m.Contains("16x16"));
    }

    [Fact]
    public void TheTimeLimitPredictsTheFirstFullSizeEpochFromTheSmallOnesByTheirPixels()
    {
        var config = Simple with { Model = "fast", Epochs = 4, LowRes = 16, LowResFraction = 0.5 };
        Assert.Equal([0.25, 0.25, 1, 1], Enumerable.Range(1, 4).Select(e => config.PixelShareIn(e, 32, 32)));
        // Two 16-pixel epochs of 10 s: the first 32-pixel one will take about 40 s, so a budget of 54 s ends training
        // after epoch 2 (20 + 40 > 54), where a prediction from the longest epoch so far (20 + 10) would go on.
        var limit = new TimeLimit(0.9, config.Epochs, epoch => config.PixelShareIn(epoch, 32, 32));
        Assert.False(limit.StopsAfter(1, 10));
        Assert.True(limit.StopsAfter(2, 10));
        var unweighted = new TimeLimit(0.9, config.Epochs);
        Assert.False(unweighted.StopsAfter(1, 10));
        Assert.False(unweighted.StopsAfter(2, 10));
    }

    sealed class MessageRecorder(List<string> messages) : ITrainingObserver
    {
        public void Message(string text) => messages.Add(text);
    }

    [Fact]
    public void ProgressiveResizingNeedsANetworkThatTakesTheSizeAndASmallerSize()
    {
        using var train = TinyData.Make(8, seed: 1);
        using var empty = TinyData.Make(0, seed: 2);
        var config = Simple with { LowRes = 16 };
        using var fixedSize = Model(Simple);
        var e = Assert.Throws<ConfigException>(() => Trainer.CheckCanTrain(config, fixedSize, train));
        Assert.Contains("any image size", e.Message);
        using var anySize = new SizeRecorder();
        Trainer.CheckCanTrain(config, anySize, train);
        Assert.Contains("below the training images' 32", Assert.Throws<ConfigException>(() => Trainer.CheckCanTrain(config with { LowRes = 32 }, anySize, train)).Message);
        Assert.Contains("at least 4 pixels", Assert.Throws<ConfigException>(() => Trainer.CheckCanTrain(config with { LowRes = 3 }, anySize, train)).Message);

        // From the settings, before any data is read: only networks that declare it.
        Assert.Contains("any image size", Assert.Throws<ConfigException>(() => Configs.For("resnet18", ("low-res", "24"))).Message);
        Assert.Equal(24, Configs.For("fast", ("low-res", "24")).LowRes);
        Assert.Throws<ConfigException>(() => Configs.For("fast", ("low-res", "-1")));
        Assert.Throws<ConfigException>(() => Configs.For("fast", ("low-res", "24"), ("low-res-fraction", "1.5")));
    }
}
