using Cifar10.Cli;
using Cifar10.Tests.Data;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>Settings that cannot train, or contradict each other, are refused with exit code 2 and
/// one line, before anything is read or written.</summary>
public class UsageTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-usage-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Theory]
    [InlineData("train --weight-decay Infinity", "--weight-decay must be a finite number")]
    [InlineData("train --gamma Infinity", "--gamma must be a finite number")]
    [InlineData("train --warmup Infinity", "--warmup must be a finite number")]
    [InlineData("train --lr 1e400", "--lr must be a finite number")]
    [InlineData("train --lr 0,5", "'0,5' is not a number")]
    [InlineData("train --threads 1000000000", "--threads must be in [0, 1024]")]
    [InlineData("eval --checkpoint x --threads 1000000000", "--threads must be in [0, 1024]")]
    [InlineData("train --flip false --alternating-flip true", "alternating flips need flipping on")]
    [InlineData("train --model resnet18 --depth 4", "has no depth")]
    [InlineData("train --model tutorial --depth 9", "tutorial depth must be between 2 and 4 (got 9)")]
    [InlineData("summary --model tutorial --depth 9", "tutorial depth must be between 2 and 4 (got 9)")]
    [InlineData("train --model deep --dropout 1.5", "--dropout must be in [0, 1) (got 1.5)")]
    [InlineData("train --resume x --out y", "--out, --force and --init-from do not go with it")]
    [InlineData("sweep --model simple --vary lr=0.1,0.1", "lists the value 0.1 more than once")]
    [InlineData("sweep --model simple --vary model=simple,nope", "unknown model 'nope'")]
    [InlineData("sweep --model simple --vary depth=2,3", "has no depth")]
    public void ImpossibleOrContradictorySettingsAreUsageErrors(string args, string expected)
    {
        string[] data = args.StartsWith("summary") ? [] : ["--data", RealData.Folder];
        var (code, _, err) = Cli.Run([.. args.Split(' '), .. data]);
        Assert.True(code is Program.UsageError or Program.Failure, err);
        Assert.Contains(expected, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("(Parameter", err);
        Assert.DoesNotContain("Actual value", err);
    }

    [Fact]
    public void ASweepWithAnUnknownModelTrainsNothing()
    {
        var sweep = Path.Combine(root, "sweep");
        var (code, _, _) = Cli.Run(["sweep", "--vary", "model=simple,nope", "--out", sweep, .. Cli.Tiny]);
        Assert.Equal(Program.UsageError, code);
        Assert.False(Directory.Exists(sweep));
    }

    [Fact]
    public void BatchNormNetworksCannotTrainOnBatchesOfOne()
    {
        var (code, _, err) = Cli.Run("train", "--model", "deep", "--batch-size", "1", "--subset", "64", "--val-size", "16",
                                     "--data", RealData.Folder, "--out", Path.Combine(root, "one"));
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("batch size 1", err);
        Assert.False(Directory.Exists(Path.Combine(root, "one")));
    }
}
