using Cifar10.Cli;
using Cifar10.Reporting;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>What the plain-text progress of the tool says: in logs and pipes nothing long is silent.</summary>
public class ProgressLinesTests
{
    [Theory]
    [InlineData(new[] { 0.1, 0.1, 0.1 }, "0.1")]
    [InlineData(new[] { 0.1, 0.05, 0.0 }, "0.1->0")]
    [InlineData(new[] { 0.01, 0.05, 0.1 }, "0.01->0.1")]
    [InlineData(new[] { 0.0, 0.4, 0.2, 0.0 }, "0->0.4->0")]
    public void TheLearningRateOfAnEpochIsTheRangeTheScheduleMovedIt(double[] rates, string expected) =>
        Assert.Equal(expected, PlainTextObserver.LearningRateText(rates));

    [Fact]
    public void AnEpochLineAfterACosineEpochDoesNotSayLearningRateZero()
    {
        var metrics = new EpochMetrics(1, LearningRate: 0, 2.1, 0.2, double.NaN, double.NaN, 3.0, 1000);
        var rates = Enumerable.Range(0, 8).Select(i => ((long)i, 0.05 * (1 + Math.Cos(Math.PI * i / 7)))).ToList();
        var line = PlainTextObserver.EpochLine(metrics, rates, isBest: false);
        Assert.Contains("lr 0.1->0 ", line);
    }

    [Fact]
    public void LongWorkSaysWhatItStartsItsEstimateOnceMeasuredAndWhenItEnds()
    {
        var output = new StringWriter();
        var observer = new PlainTextObserver(output);
        for (int done = 0; done <= 10; done++)
            observer.Report(new WorkProgress("lr-find", done, 10, "step", done == 0 ? "learning rate 1e-07 to 10" : $"lr {done}"));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("lr-find: 10 steps (learning rate 1e-07 to 10)", lines[0]);
        // The first step pays for warm-up; the estimate comes once three more are measured.
        var estimate = Assert.Single(lines, l => l.Contains("about"));
        Assert.StartsWith("lr-find: about ", estimate);
        Assert.EndsWith($"over steps 2-{1 + WorkTimer.MeasuredReports})", estimate);
        Assert.StartsWith("lr-find: 10 steps in ", lines[^1]);
        Assert.EndsWith("; lr 10", lines[^1]);
    }

    [Fact]
    public void WorkTooShortToMeasureGetsNoEstimate()
    {
        var output = new StringWriter();
        var observer = new PlainTextObserver(output);
        foreach (var done in new[] { 0, 500, 1000 })
            observer.Report(new WorkProgress("test set", done, 1000, "image"));
        Assert.Equal(["test set: 1,000 images", "test set: 1,000 images in"],
                     output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(" in ")[0] + (l.Contains(" in ") ? " in" : "")));
    }

    [Fact]
    public void OneIsSingular() =>
        Assert.Equal(("1 epoch", "2 epochs", "10,000 images"), (DisplayFormat.Count(1, "epoch"), DisplayFormat.Count(2, "epoch"), DisplayFormat.Count(10_000, "image")));
}
