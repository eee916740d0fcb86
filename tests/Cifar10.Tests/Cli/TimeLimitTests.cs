using Cifar10.Cli;
using Cifar10.Runs;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>`--time-limit`: a schedule too long for the machine runs its longest prefix that fits, then is measured as usual.</summary>
[Collection(GlobalTorchState.Name)]
public sealed class TimeLimitTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-time-limit-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void ARunStopsAtTheLastEpochThatFitsAndIsStillMeasured()
    {
        var run = Path.Combine(root, "limited");
        // A budget no epoch fits: the first always runs, and no second one is started.
        var (code, output, error) = Cli.Run(["train", "--epochs", "3", "--time-limit", "0.000001", "--out", run, .. Cli.Tiny]);

        Assert.True(code == Program.Success, error);
        var results = RunFolder.Open(run).ReadResults()!;
        Assert.Equal(1, results.EpochsCompleted);
        Assert.Contains("time limit of 0 min", results.StopReason);
        Assert.Contains("stopped after epoch 1: another epoch would end past the time limit", output);
        Assert.Contains("test accuracy", output);
    }

    [Fact]
    public void ABudgetThatFitsEveryEpochChangesNothing()
    {
        var run = Path.Combine(root, "unlimited");
        var (code, _, error) = Cli.Run(["train", "--epochs", "2", "--time-limit", "600", "--out", run, .. Cli.Tiny]);

        Assert.True(code == Program.Success, error);
        var results = RunFolder.Open(run).ReadResults()!;
        Assert.Equal((2, null), (results.EpochsCompleted, results.StopReason));
    }
}
