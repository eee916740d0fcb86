using System.Diagnostics;
using Cifar10.Reporting;
using Cifar10.Sweeps;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Sweeps;

public class SweepPlanTests
{
    [Fact]
    public void GridTriesEveryCombinationInOrder()
    {
        var trials = SweepPlan.Expand(new TrainConfig(),
            [VariedSetting.Parse("lr=0.1,0.01"), VariedSetting.Parse("batch-size=32,128,512")]);
        Assert.Equal(6, trials.Count);
        Assert.Equal("lr=0.1_batch-size=32", trials[0].Name);
        Assert.Equal("lr=0.01_batch-size=512", trials[5].Name);
        Assert.Equal(0.01, trials[5].Config.LearningRate);
        Assert.Equal(512, trials[5].Config.BatchSize);
        Assert.Equal(Enumerable.Range(0, 6), trials.Select(t => t.Index));
    }

    [Fact]
    public void ListPairsTheIthValues()
    {
        var trials = SweepPlan.Expand(new TrainConfig(),
            [VariedSetting.Parse("epochs=10,100"), VariedSetting.Parse("lr=0.1,0.05")], grid: false);
        Assert.Equal(2, trials.Count);
        Assert.Equal((100, 0.05), (trials[1].Config.Epochs, trials[1].Config.LearningRate));
        Assert.Throws<ConfigException>(() => SweepPlan.Expand(new TrainConfig(),
            [VariedSetting.Parse("epochs=10,100"), VariedSetting.Parse("lr=0.1")], grid: false));
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("lr=")]
    [InlineData("colour=red")]
    [InlineData("epochs=ten")]
    public void MalformedVaryIsAUsageError(string text)
    {
        Assert.Throws<ConfigException>(() => VariedSetting.Parse(text));
    }

    [Fact]
    public void InvalidValuesAreRejectedBeforeAnythingRuns()
    {
        var e = Assert.Throws<ConfigException>(() => SweepPlan.Expand(new TrainConfig(), [VariedSetting.Parse("epochs=5,0")]));
        Assert.Contains("epochs must be positive", e.Message);
    }

    [Fact]
    public void EverySweepableSettingChangesTheConfig()
    {
        var samples = new Dictionary<string, string>
        {
            ["model"] = "deep", ["epochs"] = "3", ["batch-size"] = "7", ["lr"] = "0.3", ["optimizer"] = "adam",
            ["momentum"] = "0.5", ["nesterov"] = "true", ["weight-decay"] = "0.01", ["label-smoothing"] = "0.1",
            ["schedule"] = "step", ["warmup"] = "2", ["gamma"] = "0.5", ["step-size"] = "4", ["dropout"] = "0.2",
            ["depth"] = "4", ["val-size"] = "10", ["cutout"] = "8", ["crop"] = "false", ["flip"] = "off",
            ["subset"] = "99", ["seed"] = "5", ["norm-bias-lr-scale"] = "64", ["lookahead"] = "true",
            ["crop-padding"] = "2", ["pad-mode"] = "reflect", ["alternating-flip"] = "true", ["precision"] = "bf16", ["test-tta"] = "true",
        };
        Assert.Equal(samples.Keys.Order(), ConfigSettings.Names.Order());
        var original = new TrainConfig();
        foreach (var (name, value) in samples)
            Assert.NotEqual(original, ConfigSettings.Apply(original, name, value));
    }
}

/// <summary>Sweeps on a small slice of the real data: each trial is a real run.</summary>
[Collection(GlobalTorchState.Name)]
public class SweepRunnerTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-sweep-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    SweepRequest Request(string folder, int? trialIndex = null) => new()
    {
        BaseConfig = new TrainConfig { Model = "simple", Epochs = 2, BatchSize = 64, TrainSubset = 256, ValidationSize = 128, Threads = 1 },
        Varied = [VariedSetting.Parse("lr=0.05,0.01")],
        Folder = folder,
        Data = RealData.Folder,
        TrialIndex = trialIndex,
    };

    /// <summary>Cancels the sweep when the given trial has finished its first epoch.</summary>
    sealed class StopInTrial(int epoch, CancellationTokenSource source) : ITrainingObserver
    {
        public void EpochCompleted(EpochMetrics metrics, bool isBest)
        {
            if (metrics.Epoch == epoch) source.Cancel();
        }
    }

    [Fact]
    public void InterruptedSweepSkipsFinishedTrialsAndResumesTheUnfinishedOne()
    {
        var folder = Path.Combine(root, "sweep");
        using var stop = new CancellationTokenSource();
        var say = new List<string>();
        Assert.Throws<OperationCanceledException>(() => SweepRunner.Run(Request(folder),
            trial => trial.Index == 1 ? new StopInTrial(1, stop) : SilentObserver.Instance, say.Add, stop.Token));
        Assert.True(File.Exists(Path.Combine(folder, "lr=0.05", RunFolder.ResultsFile)));
        Assert.False(File.Exists(Path.Combine(folder, "lr=0.01", RunFolder.ResultsFile)));

        var outcomes = SweepRunner.Run(Request(folder), _ => SilentObserver.Instance, say.Add, CancellationToken.None);
        Assert.Equal([TrialStatus.AlreadyFinished, TrialStatus.Finished], outcomes.Select(o => o.Status));
        Assert.Contains(say, line => line.Contains("lr=0.01: resuming"));
        var resumed = RunFolder.Open(Path.Combine(folder, "lr=0.01"));
        Assert.Equal([1, 2], resumed.ReadMetrics().Select(m => m.Epoch));

        var table = File.ReadAllLines(Path.Combine(folder, "results.csv"));
        Assert.Equal(3, table.Length); // header + one row per trial
        var index = File.ReadAllText(Path.Combine(folder, "index.html"));
        Assert.Contains("lr%3D0.05/report.html", index); // folder names are URL-escaped in links
        Assert.Contains("lr%3D0.01/report.html", index);
        Assert.True(File.Exists(Path.Combine(folder, "validation_curves.png")));
    }

    [Fact]
    public void ADifferentSweepInTheSameFolderIsRefused()
    {
        var folder = Path.Combine(root, "sweep");
        SweepRunner.Run(Request(folder, trialIndex: 0), _ => SilentObserver.Instance, _ => { }, CancellationToken.None);
        var other = Request(folder) with { Varied = [VariedSetting.Parse("lr=0.2,0.3")] };
        Assert.Throws<ConfigException>(() => SweepRunner.Run(other, _ => SilentObserver.Instance, _ => { }, CancellationToken.None));
        Assert.Throws<ConfigException>(() => SweepRunner.Run(Request(folder, trialIndex: 2), _ => SilentObserver.Instance, _ => { }, CancellationToken.None));
    }

    [Fact]
    public void TwoProcessesEachRunOneTrialOfTheSameSweep()
    {
        var folder = Path.Combine(root, "shared-sweep");
        var cli = Path.Combine(AppContext.BaseDirectory, "cifar10.dll");
        Process Start(int index) => Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { cli, "sweep", "--model", "simple", "--epochs", "1", "--batch-size", "64", "--subset", "256",
                             "--val-size", "128", "--threads", "1", "--vary", "lr=0.05,0.01", "--out", folder,
                             "--data", RealData.Folder, "--trial-index", index.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var first = Start(0);
        using var second = Start(1);
        var errors = new[] { first.StandardError.ReadToEndAsync(), second.StandardError.ReadToEndAsync() };
        _ = first.StandardOutput.ReadToEndAsync();
        _ = second.StandardOutput.ReadToEndAsync();
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(3)) && second.WaitForExit(TimeSpan.FromMinutes(3)), "sweep processes did not finish");
        Assert.True(first.ExitCode == 0, errors[0].Result);
        Assert.True(second.ExitCode == 0, errors[1].Result);
        Assert.True(File.Exists(Path.Combine(folder, "lr=0.05", RunFolder.ResultsFile)));
        Assert.True(File.Exists(Path.Combine(folder, "lr=0.01", RunFolder.ResultsFile)));

        // Whoever runs the sweep again (e.g. a final job) gets the report over both trials.
        var trials = SweepPlan.Expand(new TrainConfig { Model = "simple", Epochs = 1, BatchSize = 64, TrainSubset = 256, ValidationSize = 128, Threads = 1 },
                                      [VariedSetting.Parse("lr=0.05,0.01")]);
        SweepRunner.WriteReport(folder, trials);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "results.csv")).Length);
    }
}
