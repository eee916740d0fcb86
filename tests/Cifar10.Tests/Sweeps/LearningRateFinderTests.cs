using Cifar10.Models;
using Cifar10.Sweeps;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Sweeps;

[Collection(GlobalTorchState.Name)]
public class LearningRateFinderTests
{
    [Fact]
    public void SuggestsTheSteepestDescentOfTheCurve()
    {
        // Flat, then falling fastest around lr = 1e-3, then flat again.
        var points = Enumerable.Range(0, 61).Select(i =>
        {
            double logLr = -6 + i * 0.1;
            return (Math.Pow(10, logLr), 2.0 - Math.Tanh(2 * (logLr + 3)));
        }).ToList();
        Assert.Equal(1e-3, LearningRateFinder.Suggest(points), 6);
    }

    [Fact]
    public void SweepsExponentiallyAndStopsWhenTheLossExplodes()
    {
        using var train = TinyData.Make(256, seed: 5);
        torch.manual_seed(0);
        using var model = ModelCatalog.Create("simple", new ModelOptions());
        var config = new TrainConfig { Model = "simple", BatchSize = 32, WeightDecay = 0 };
        var progress = new ProgressRecorder();
        var result = LearningRateFinder.Run(model, train, config, CPU, start: 1e-5, end: 100, steps: 60, progress: progress);

        Assert.InRange(result.Points.Count, 10, 60);
        Assert.Equal(1e-5, result.Points[0].Lr, 12);
        var ratios = result.Points.Zip(result.Points.Skip(1), (a, b) => b.Lr / a.Lr).ToList();
        Assert.All(ratios, r => Assert.Equal(ratios[0], r, 9)); // exponential spacing
        Assert.True(result.Points.Count < 60 || result.Points[^1].Loss > result.Points.Min(p => p.Loss),
                    "at lr 100 a network's loss should have blown up");
        Assert.InRange(result.Suggested, result.Points[0].Lr, result.Points[^1].Lr);

        // Every step is reported; a finder that stopped early ends with the steps it took as the total.
        Assert.Equal((0L, 60L), (progress.Reports[0].Done, progress.Reports[0].Total));
        Assert.Equal(Enumerable.Range(0, progress.Reports.Count).Select(i => (long)i), progress.Reports.Select(r => r.Done));
        var last = progress.Reports[^1];
        Assert.True(last.IsEnd);
        if (result.Points.Count < 60)
        {
            Assert.Equal(result.Points.Count + 1, last.Total);
            Assert.Contains("stopped", last.Detail);
        }
    }

    [Fact]
    public void RejectsAnEmptyRange()
    {
        using var train = TinyData.Make(16, seed: 1);
        using var model = ModelCatalog.Create("simple", new ModelOptions());
        Assert.Throws<ConfigException>(() => LearningRateFinder.Run(model, train, new TrainConfig(), CPU, start: 1, end: 0.1));
    }
}
