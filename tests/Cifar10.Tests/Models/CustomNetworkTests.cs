using System.Text.Json;
using Cifar10.Cli;
using Cifar10.Models;
using Cifar10.Runs;
using Cifar10.Tests.Data;
using Cifar10.Training;
using SkiaSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Tests.Models;

/// <summary>A network defined outside the library: pooled pixels into two linear layers. It also uses the
/// hooks a network can declare (data-dependent initialisation, per-epoch changes), and counts the calls.</summary>
public sealed class PooledMlp : Module<Tensor, Tensor>, IDataInitialized, IEpochAware
{
    private readonly Linear hidden, output;
    public static int Initializations, EpochsStarted;

    public PooledMlp(int numClasses) : base(nameof(PooledMlp))
    {
        hidden = Linear(3 * 8 * 8, 64);
        output = Linear(64, numClasses);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        output.call(functional.relu(hidden.call(functional.avg_pool2d(input, 4).flatten(1))));

    public int InitializationImages => 100;

    public void InitializeFromData(Tensor normalizedImages)
    {
        Assert.Equal(100, normalizedImages.shape[0]);
        Interlocked.Increment(ref Initializations);
    }

    public void EpochStarting(int epoch, int epochs) => Interlocked.Increment(ref EpochsStarted);

    /// <summary>Registered once per test process, as a user's program would at start.</summary>
    public static readonly ModelInfo Info = ModelCatalog.Register(
        ModelInfo.For("pooled-mlp", o => new PooledMlp(o.NumClasses)) with { Description = "avg-pool 4, FC 192-64-classes (a test network)" });
}

/// <summary>`ModelCatalog.Register` makes a network of the user's own train, checkpoint, resume,
/// evaluate, predict and sweep like a built-in one, through the command line.</summary>
[Collection(GlobalTorchState.Name)]
public class CustomNetworkTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-custom-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => Cifar10.Tests.Cli.Cli.Run(args);

    static readonly string[] Small = ["--subset", "512", "--val-size", "256", "--batch-size", "64", "--threads", "1", "--data", RealData.Folder];

    sealed class StopAfterFirstEpoch(CancellationTokenSource source) : ITrainingObserver
    {
        public void EpochCompleted(EpochEnd end) => source.Cancel();
    }

    [Fact]
    public void ARegisteredNetworkWorksLikeABuiltInOne()
    {
        Assert.Same(PooledMlp.Info, ModelCatalog.Get("pooled-mlp"));
        Assert.Equal("classic", PooledMlp.Info.DefaultRecipe);
        int initializations = PooledMlp.Initializations, epochs = PooledMlp.EpochsStarted;

        var run = Path.Combine(root, "run");
        var trained = Run(["train", "--model", "pooled-mlp", "--epochs", "2", "--out", run, .. Small]);
        Assert.True(trained.Code == 0, trained.Err);
        Assert.True(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));
        Assert.Equal(initializations + 1, PooledMlp.Initializations);
        Assert.Equal(epochs + 2, PooledMlp.EpochsStarted);

        var evaluated = Run("eval", "--checkpoint", run, "--data", RealData.Folder);
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Contains("test accuracy", evaluated.Out);

        var image = Path.Combine(root, "red.png");
        using (var bitmap = new SKBitmap(40, 40))
        {
            bitmap.Erase(SKColors.Red);
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(image, png.ToArray());
        }
        var predicted = Run("predict", "--checkpoint", run, image);
        Assert.True(predicted.Code == 0, predicted.Err);
        Assert.StartsWith(image, predicted.Out);

        // Interrupted after its first epoch, then resumed from the command line.
        var resumed = Path.Combine(root, "resumed");
        using (var stop = new CancellationTokenSource())
        {
            var config = Configs.For("pooled-mlp", ("epochs", "2"), ("subset", "512"), ("val-size", "256"), ("batch-size", "64"), ("threads", "1"));
            var request = new TrainRequest { Config = config, Data = RealData.Folder, Out = resumed };
            var interrupted = Assert.Throws<RunInterruptedException>(() => TrainingRun.Execute(request, new StopAfterFirstEpoch(stop), stop.Token));
            Assert.Contains($"--resume {resumed}", interrupted.Message);
        }
        var continued = Run("train", "--resume", resumed, "--data", RealData.Folder);
        Assert.True(continued.Code == 0, continued.Err);
        Assert.Equal([1, 2], RunFolder.Open(resumed).ReadMetrics().Select(m => m.Epoch));

        var sweep = Path.Combine(root, "sweep");
        var swept = Run(["sweep", "--model", "pooled-mlp", "--epochs", "1", "--vary", "lr=0.05,0.01", "--out", sweep, .. Small]);
        Assert.True(swept.Code == 0, swept.Err);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(sweep, "results.csv")).Length);
    }
}
