using System.Diagnostics;
using Cifar10.Reporting;
using Cifar10.Sweeps;
using Cifar10.Tests.Data;
using Cifar10.Runs;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Sweeps;

public class SweepPlanTests
{
    static readonly IReadOnlyList<KeyValuePair<string, string>> Simple = [new("model", "simple")];

    [Fact]
    public void GridTriesEveryCombinationInOrder()
    {
        var trials = SweepPlan.Expand(Simple, [VariedSetting.Parse("lr=0.1,0.01"), VariedSetting.Parse("batch-size=32,128,512")]);
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
        var trials = SweepPlan.Expand(Simple, [VariedSetting.Parse("epochs=10,100"), VariedSetting.Parse("lr=0.1,0.05")], grid: false);
        Assert.Equal(2, trials.Count);
        Assert.Equal((100, 0.05), (trials[1].Config.Epochs, trials[1].Config.LearningRate));
        Assert.Throws<ConfigException>(() => SweepPlan.Expand(Simple, [VariedSetting.Parse("epochs=10,100"), VariedSetting.Parse("lr=0.1")], grid: false));
    }

    [Theory]
    [InlineData("lr")]
    [InlineData("lr=")]
    [InlineData("colour=red")]
    [InlineData("lr=0.1,0.10")]     // the same value twice
    [InlineData("seed=3,4,3")]
    public void MalformedVaryIsAUsageError(string text)
    {
        Assert.Throws<ConfigException>(() => VariedSetting.Parse(text));
    }

    [Fact]
    public void InvalidValuesAndUnknownModelsAreRejectedBeforeAnythingRuns()
    {
        var e = Assert.Throws<ConfigException>(() => SweepPlan.Expand(Simple, [VariedSetting.Parse("epochs=5,0")]));
        Assert.Contains("--epochs must be > 0", e.Message);
        e = Assert.Throws<ConfigException>(() => SweepPlan.Expand(Simple, [VariedSetting.Parse("model=simple,nope")]));
        Assert.Contains("unknown model 'nope'", e.Message);
        Assert.Contains("trial 1", e.Message);
        // A setting the second network does not have.
        e = Assert.Throws<ConfigException>(() => SweepPlan.Expand([new("dropout", "0.3")], [VariedSetting.Parse("model=deep,resnet18")]));
        Assert.Contains("resnet18", e.Message);
    }

    [Fact]
    public void TheRecipeFollowsEachTrialsModel()
    {
        // On top of the default (fast, muon): resnet18 gets the classic recipe, not muon's optimizer and batch 2000.
        var trials = SweepPlan.Expand([], [VariedSetting.Parse("model=fast,resnet18")]);
        Assert.Equal(("muon", OptimizerKind.Muon, 2000, ScheduleKind.Linear),
                     (trials[0].Config.Recipe, trials[0].Config.Optimizer, trials[0].Config.BatchSize, trials[0].Config.Schedule));
        Assert.Equal(("classic", OptimizerKind.Sgd, 128, ScheduleKind.Cosine),
                     (trials[1].Config.Recipe, trials[1].Config.Optimizer, trials[1].Config.BatchSize, trials[1].Config.Schedule));
        // --model simple --vary model=fast: fast trains with its own recipe; the explicit settings still apply.
        trials = SweepPlan.Expand([new("model", "simple"), new("epochs", "3")], [VariedSetting.Parse("model=fast")]);
        Assert.Equal(("fast", "muon", 2000, 3), (trials[0].Config.Model, trials[0].Config.Recipe, trials[0].Config.BatchSize, trials[0].Config.Epochs));
    }

    [Fact]
    public void ListValuesAndLongSeedsCanBeVaried()
    {
        var trials = SweepPlan.Expand([new("model", "simple"), new("schedule", "multistep")],
                                      [VariedSetting.Parse("milestones=10 20,30 60"), VariedSetting.Parse("seed=5000000000")]);
        Assert.Equal([10, 20], trials[0].Config.Milestones);
        Assert.Equal([30, 60], trials[1].Config.Milestones);
        Assert.Equal(5_000_000_000L, trials[1].Config.Seed);
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
        BaseSettings = [new("model", "simple"), new("epochs", "2"), new("batch-size", "64"), new("subset", "256"), new("val-size", "128"), new("threads", "1")],
        Varied = [VariedSetting.Parse("lr=0.05,0.01")],
        Folder = folder,
        Data = RealData.Folder,
        TrialIndex = trialIndex,
    };

    /// <summary>Cancels the sweep when the given trial has finished its first epoch.</summary>
    sealed class StopInTrial(int epoch, CancellationTokenSource source) : ITrainingObserver
    {
        public void EpochCompleted(EpochEnd end)
        {
            if (end.Metrics.Epoch == epoch) source.Cancel();
        }
    }

    [Fact]
    public void InterruptedSweepSkipsFinishedTrialsAndResumesTheUnfinishedOne()
    {
        var folder = Path.Combine(root, "sweep");
        using var stop = new CancellationTokenSource();
        var say = new List<string>();
        Assert.ThrowsAny<OperationCanceledException>(() => SweepRunner.Run(Request(folder),
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
    public async Task TwoProcessesEachRunOneTrialOfTheSameSweep()
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
        Assert.True(first.ExitCode == 0, await errors[0]);
        Assert.True(second.ExitCode == 0, await errors[1]);
        Assert.True(File.Exists(Path.Combine(folder, "lr=0.05", RunFolder.ResultsFile)));
        Assert.True(File.Exists(Path.Combine(folder, "lr=0.01", RunFolder.ResultsFile)));

        // Whoever runs the sweep again (e.g. a final job) gets the report over both trials.
        var trials = SweepPlan.Expand([new("model", "simple"), new("epochs", "1"), new("batch-size", "64"), new("subset", "256"), new("val-size", "128"), new("threads", "1")],
                                      [VariedSetting.Parse("lr=0.05,0.01")]);
        SweepRunner.WriteReport(folder, trials);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "results.csv")).Length);
    }
}
