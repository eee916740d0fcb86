using System.Globalization;
using Cifar10.Reporting;
using Xunit;

namespace Cifar10.Tests.Reporting;

public class MetricsCsvTests
{
    private static readonly EpochMetrics[] Tricky =
    [
        new(1, 0.1, 2.302585092994046, 0.1 + 0.2, 1.9876543210987654, 0.3456, 41.25, 1212.5, 1250.0625, 876.5),
        new(2, 1e-300, double.Epsilon, 1.0, double.NaN, double.NaN, 0.0, 1e15),   // no validation this epoch
        new(3, 0.000123456789, 1 / 3.0, 0.9999999999999999, 0.5, 0.75, 123456.789, double.MaxValue),
    ];

    [Fact]
    public void WriteThenReadRoundTripsExactlyIncludingNaN()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("metrics.csv");
        MetricsCsv.Write(path, Tricky);
        Assert.Equal(Tricky, MetricsCsv.Read(path)); // record equality: NaN equals NaN, doubles bit-for-bit
        Assert.Equal("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s,step_images_per_s,rss_mib", File.ReadLines(path).First());
        Assert.Contains(",NaN,NaN,", File.ReadAllLines(path)[2]);
    }

    [Fact]
    public void AppendWritesTheHeaderOnlyForANewFile()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("sub", "metrics.csv");
        foreach (var epoch in Tricky) MetricsCsv.Append(path, epoch);
        var lines = File.ReadAllLines(path);
        Assert.Equal(1 + Tricky.Length, lines.Length);
        Assert.Single(lines, l => l == MetricsCsv.Header);
        Assert.Equal(Tricky, MetricsCsv.Read(path));
    }

    [Fact]
    public void OutputDoesNotDependOnTheCurrentCulture()
    {
        using var directory = new TempDirectory();
        var original = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE"); // decimal comma
            MetricsCsv.Write(directory.Combine("metrics.csv"), Tricky);
            Assert.Equal(Tricky, MetricsCsv.Read(directory.Combine("metrics.csv")));
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }
        Assert.StartsWith("1,0.1,2.302585092994046,", File.ReadAllLines(directory.Combine("metrics.csv"))[1]);
    }

    [Theory]
    [InlineData("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s,rss_mib\n1,0.1,2.5,0.25,NaN,NaN,40,1250,900.5\n", 900.5)]
    [InlineData("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s\n1,0.1,2.5,0.25,NaN,NaN,40,1250\n", double.NaN)]
    public void ReadsTheFilesOfEarlierVersionsWithTheNewColumnsAsNaN(string text, double residentMiB)
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("metrics.csv");
        File.WriteAllText(path, text);
        var expected = new EpochMetrics(1, 0.1, 2.5, 0.25, double.NaN, double.NaN, 40, 1250, double.NaN, residentMiB);
        Assert.Equal([expected], MetricsCsv.Read(path));
    }

    [Fact]
    public void ReadRejectsAnUnexpectedHeader()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("metrics.csv");
        File.WriteAllText(path, "epoch,loss\n1,2\n");
        Assert.Throws<FormatException>(() => MetricsCsv.Read(path));
    }
}

public class LearningRateCsvTests
{
    [Fact]
    public void AppendedBatchesReadBackInOrder()
    {
        using var directory = new TempDirectory();
        var path = directory.Combine("lr.csv");
        (long, double)[] first = [(0, 0.004), (1, 0.0041234567890123)];
        (long, double)[] second = [(2, 0.1), (3_000_000_000, 1e-7)];
        LearningRateCsv.Append(path, first);
        LearningRateCsv.Append(path, second);
        Assert.Equal("step,lr", File.ReadLines(path).First());
        Assert.Equal([.. first, .. second], LearningRateCsv.Read(path));
    }
}
