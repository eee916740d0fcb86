using System.Globalization;
using Cifar10.Cli;
using Cifar10.Runs;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>One finished tiny run (2 epochs of the simple network on 512 real images), made once and
/// copied by the tests that damage or resume it.</summary>
public sealed class FinishedRunFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cifar10-finished-").FullName;
    public string Run => Path.Combine(Root, "run");

    public FinishedRunFixture()
    {
        var trained = Cli.Run(["train", "--epochs", "2", "--out", Run, .. Cli.Tiny]);
        if (trained.Code != 0) throw new InvalidOperationException(trained.Err);
    }

    public string Copy(string to)
    {
        Cli.CopyFolder(Run, to);
        return to;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>What `train`, `--force` and `--resume` do with folders that hold a user's results: nothing is
/// lost, nothing is trained silently with other settings than asked.</summary>
[Collection(GlobalTorchState.Name)]
public class RunSafetyTests(FinishedRunFixture finished) : IClassFixture<FinishedRunFixture>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-safety-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static void AssertOneLine(string err) => Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void ForceNeverDeletesAFolderThatIsNotARun()
    {
        var folder = Path.Combine(root, "p");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "thesis.txt"), "thesis");
        var (code, _, err) = Cli.Run("train", "--model", "simple", "--data", "/nonexistent", "--out", folder, "--force");
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("not a run folder", err);
        AssertOneLine(err);
        Assert.Equal("thesis", File.ReadAllText(Path.Combine(folder, "thesis.txt")));
        Assert.True(Directory.Exists(Path.Combine(folder, "sub")));
    }

    static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    static void AssertUnchanged(Dictionary<string, byte[]> before, string folder)
    {
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, pair => Assert.Equal(pair.Value, File.ReadAllBytes(pair.Key)));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{ \"name\": \"my-experiment\", \"config\": { \"lr\": 0.1 } }")]
    public void ForceRefusesAFolderWhoseConfigJsonIsNotARunRecordOfThisTool(string config)
    {
        var folder = Path.Combine(root, "project");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, RunFolder.ConfigFile), config);
        File.WriteAllText(Path.Combine(folder, RunFolder.MetricsFile), "my measurements");
        var before = Snapshot(folder);
        var (code, _, err) = Cli.Run(["train", "--epochs", "1", "--out", folder, "--force", .. Cli.Tiny]);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains($"{folder} is not a run folder", err);
        AssertOneLine(err);
        AssertUnchanged(before, folder);
    }

    [Fact]
    public void ForceRefusesARunFolderThatAlsoHoldsTheUsersFiles()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        File.WriteAllText(Path.Combine(run, "notes.txt"), "what I tried");
        Directory.CreateDirectory(Path.Combine(run, "best", "annotations"));
        File.WriteAllText(Path.Combine(run, "best", "annotations", "why.txt"), "best because...");
        var before = Snapshot(run);
        var (code, _, err) = Cli.Run(["train", "--epochs", "1", "--out", run, "--force", .. Cli.Tiny]);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains($"run folder {run} also holds", err);
        Assert.Contains("notes.txt", err);
        Assert.Contains(Path.Combine("best", "annotations"), err);
        AssertOneLine(err);
        AssertUnchanged(before, run);
    }

    [Fact]
    public void ForceReplacesARunWithTheEvaluationsAndExportsTheToolWroteIntoIt()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        Assert.Equal(0, Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder).Code);
        Assert.Equal(0, Cli.Run("export", "--checkpoint", run, "--format", "pt").Code);
        Assert.Equal(0, Cli.Run("export", "--checkpoint", run, "--format", "onnx").Code);
        Assert.Empty(RunFileSet.Foreign(run));

        var (code, _, err) = Cli.Run(["train", "--epochs", "1", "--out", run, "--force", .. Cli.Tiny]);
        Assert.True(code == 0, err);
        Assert.Equal(1, RunFolder.Open(run).ReadResults()!.EpochsCompleted);
        Assert.False(Directory.Exists(Path.Combine(run, "eval-best")));
        Assert.Empty(Directory.GetDirectories(root, ".*"));
    }

    [Fact]
    public void ANewRunThatFailsBeforeItsFirstCheckpointLeavesTheUsersEmptyFolder()
    {
        var folder = Path.Combine(root, "mine");
        Directory.CreateDirectory(folder);
        var (code, _, err) = Cli.Run(["train", "--epochs", "1", "--lr", "1e30", "--out", folder, .. Cli.Tiny]);
        Assert.Equal(Program.Failure, code);
        Assert.Contains("diverged in epoch 1", err);
        Assert.True(Directory.Exists(folder));
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void ResumingARunWhoseImageFolderChangedIsAFailure()
    {
        var data = Path.Combine(root, "pets");
        ImageFolders.Write(data, perClass: 12, test: false);
        var run = Path.Combine(root, "run");
        var trained = Cli.Run("train", "--model", "simple", "--epochs", "1", "--batch-size", "16", "--threads", "1",
                              "--data", data, "--test-size", "9", "--val-size", "6", "--out", run);
        Assert.True(trained.Code == 0, trained.Err);
        File.Delete(Path.Combine(run, RunFolder.ResultsFile)); // as if stopped after its checkpoint

        var changed = Path.Combine(data, "train", "cats", "0.png");
        File.WriteAllBytes(changed, ImageFolders.Image(SkiaSharp.SKColors.Black, 25, 25, SkiaSharp.SKEncodedImageFormat.Png));
        File.SetLastWriteTimeUtc(changed, DateTime.UtcNow.AddMinutes(1));
        var (code, _, err) = Cli.Run("train", "--resume", run);
        Assert.Equal(Program.Failure, code);
        Assert.Contains("differs from the data", err);
        AssertOneLine(err);
    }

    [Fact]
    public void NoNaNIsWrittenToJsonAndOldFilesWithNaNStillRead()
    {
        var run = Path.Combine(root, "no-validation"); // no validation set: no best validation accuracy
        var trained = Cli.Run("train", "--model", "simple", "--subset", "512", "--val-size", "0", "--batch-size", "64", "--threads", "1",
                              "--epochs", "1", "--data", RealData.Folder, "--out", run);
        Assert.True(trained.Code == 0, trained.Err);
        var results = Path.Combine(run, RunFolder.ResultsFile);
        var state = Path.Combine(run, RunFolder.LastCheckpoint, Checkpoint.StateFile);
        foreach (var file in new[] { Path.Combine(run, RunFolder.ConfigFile), results, state })
            Assert.DoesNotContain("NaN", File.ReadAllText(file));
        Assert.Contains("\"best_val_accuracy\": null", File.ReadAllText(results));
        Assert.True(double.IsNaN(RunFolder.Open(run).ReadResults()!.BestValAccuracy));

        // Earlier versions wrote the string "NaN".
        foreach (var file in new[] { results, state })
            File.WriteAllText(file, File.ReadAllText(file).Replace("\"best_val_accuracy\": null", "\"best_val_accuracy\": \"NaN\""));
        Assert.True(double.IsNaN(RunFolder.Open(run).ReadResults()!.BestValAccuracy));
        Assert.True(double.IsNaN(Checkpoint.ReadState(Path.Combine(run, RunFolder.LastCheckpoint)).BestValAccuracy));
        var evaluated = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder);
        Assert.True(evaluated.Code == 0, evaluated.Err);
    }

    [Fact]
    public void ForceWithABadSettingLeavesTheEarlierRunAsItWas()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var before = Directory.GetFiles(run, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        var (code, _, err) = Cli.Run("train", "--model", "tutorial", "--depth", "9", "--out", run, "--force", "--data", RealData.Folder);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("depth", err);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(run, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, pair => Assert.Equal(pair.Value, File.ReadAllBytes(pair.Key)));
    }

    sealed class StopAtFirstStep(CancellationTokenSource source) : ITrainingObserver
    {
        public void StepCompleted(StepProgress progress) => source.Cancel();
    }

    [Fact]
    public void ForceKeepsTheEarlierRunUntilTheNewOneHasACheckpoint()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var results = File.ReadAllText(Path.Combine(run, RunFolder.ResultsFile));
        var config = Configs.For("simple", ("epochs", "1"), ("subset", "256"), ("val-size", "128"), ("threads", "1"));
        var request = new TrainRequest { Config = config, Data = RealData.Folder, Out = run, Force = true };

        // Interrupted before its first checkpoint: the earlier run is put back, whole.
        using (var stop = new CancellationTokenSource())
        {
            var e = Assert.Throws<RunInterruptedException>(() => TrainingRun.Execute(request, new StopAtFirstStep(stop), stop.Token));
            Assert.Contains("earlier run", e.Message);
        }
        Assert.Equal(results, File.ReadAllText(Path.Combine(run, RunFolder.ResultsFile)));
        Assert.Empty(Directory.GetDirectories(root, ".*replaced*"));

        // Finished: the new run replaced the old one, and nothing of the old one is left aside.
        TrainingRun.Execute(request, SilentObserver.Instance, CancellationToken.None);
        Assert.Equal(1, RunFolder.Open(run).ReadResults()!.EpochsCompleted);
        Assert.Empty(Directory.GetDirectories(root, ".*"));
    }

    [Fact]
    public void ARejectedSettingLeavesNoFolderBehind()
    {
        var run = Path.Combine(root, "new", "deeper", "run");
        var (code, _, _) = Cli.Run("train", "--model", "tutorial", "--depth", "9", "--out", run, "--data", RealData.Folder);
        Assert.Equal(Program.UsageError, code);
        Assert.False(Directory.Exists(Path.Combine(root, "new")));
    }

    [Fact]
    public void ResumingAFinishedRunIsRefusedAndChangesNothing()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var results = File.ReadAllText(Path.Combine(run, RunFolder.ResultsFile));
        var (code, _, err) = Cli.Run("train", "--resume", run);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("is finished", err);
        Assert.Equal(results, File.ReadAllText(Path.Combine(run, RunFolder.ResultsFile)));
    }

    [Fact]
    public void ResumeWithOtherSettingsIsRefusedNotIgnored()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        File.Delete(Path.Combine(run, RunFolder.ResultsFile));
        var (code, _, err) = Cli.Run("train", "--resume", run, "--epochs", "5", "--lr", "0.5");
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("--epochs, --lr cannot be changed", err);
        AssertOneLine(err);
    }

    [Fact]
    public void ARunKilledBetweenTheTwoRenamesOfACheckpointSwapResumesAndEvaluates()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        File.Delete(Path.Combine(run, RunFolder.ResultsFile));
        // Killed mid-swap: the previous checkpoint renamed aside, the new one half written.
        Directory.Move(Path.Combine(run, "last"), Path.Combine(run, "last.previous"));
        Directory.CreateDirectory(Path.Combine(run, "last.writing"));
        File.WriteAllText(Path.Combine(run, "last.writing", Checkpoint.ModelFile), "half a file");
        Directory.Move(Path.Combine(run, "best"), Path.Combine(run, "best.previous"));

        var evaluated = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder);
        Assert.True(evaluated.Code == 0, evaluated.Err);
        var resumed = Cli.Run("train", "--resume", run);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Equal(2, Checkpoint.ReadState(Path.Combine(run, "last")).Epoch);
        Assert.False(Directory.Exists(Path.Combine(run, "last.previous")));
        Assert.False(Directory.Exists(Path.Combine(run, "last.writing")));
        Assert.True(Directory.Exists(Path.Combine(run, "best")));
    }

    [Theory]
    [InlineData("last/state.json", "{ not json", "state.json")]
    [InlineData("last/optimizer.bin", "truncated", "optimizer.bin")]
    [InlineData("lr.csv", "step,lr\n0,0.1\ngarbage,x\n", "lr.csv")]
    public void ADamagedFileOfARunIsAFailureThatNamesIt(string file, string content, string named)
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        File.Delete(Path.Combine(run, RunFolder.ResultsFile));
        File.WriteAllText(Path.Combine(run, file), content);
        var (code, _, err) = Cli.Run("train", "--resume", run);
        Assert.Equal(Program.Failure, code);
        Assert.Contains(named, err);
        AssertOneLine(err);
    }

    [Fact]
    public void ReportEvaluatesExactlyAsTheRunDid()
    {
        // The default recipe measures the test set with test-time augmentation; report must too.
        var run = Path.Combine(root, "tta");
        var trained = Cli.Run(["train", "--epochs", "1", "--test-tta", "true", "--out", run, .. Cli.Tiny]);
        Assert.True(trained.Code == 0, trained.Err);
        var results = RunFolder.Open(run).ReadResults()!;
        Assert.True(results.TestTta);
        File.Delete(Path.Combine(run, "report.html"));
        var report = Cli.Run("report", "--run", run, "--data", RealData.Folder);
        Assert.True(report.Code == 0, report.Err);
        Assert.Contains(results.TestAccuracy.ToString("P2", CultureInfo.CurrentCulture), report.Out);
        Assert.Contains(results.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture).Replace(" ", ""),
                        File.ReadAllText(Path.Combine(run, "report.html")).Replace(" ", ""));
    }

    [Fact]
    public void ALossThatBecomesNaNStopsTheRunWithExitOneAndKeepsTheLastGoodCheckpoint()
    {
        var run = Path.Combine(root, "diverged");
        var (code, _, err) = Cli.Run(["train", "--epochs", "3", "--schedule", "step", "--step-size", "1", "--gamma", "1e30",
                                      "--out", run, .. Cli.Tiny]);
        Assert.Equal(Program.Failure, code);
        Assert.Contains("diverged in epoch 2", err);
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(run, "last")).Epoch);
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ResultsFile)));
    }

    [Fact]
    public void NumbersOnTheCommandLineMeanTheSameUnderACommaDecimalCulture()
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var refused = Cli.Run(["train", "--lr", "0,5", "--out", Path.Combine(root, "comma"), .. Cli.Tiny]);
            Assert.Equal(Program.UsageError, refused.Code);
            Assert.Contains("'0,5' is not a number", refused.Err);

            var run = Path.Combine(root, "point");
            var trained = Cli.Run(["train", "--epochs", "1", "--lr", "0.01", "--weight-decay", "0.0005", "--out", run, .. Cli.Tiny]);
            Assert.True(trained.Code == 0, trained.Err);
            var config = RunFolder.Open(run).ReadManifest().Config;
            Assert.Equal((0.01, 0.0005), (config.LearningRate, config.WeightDecay));
            Assert.Contains("\"lr\": 0.01", File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)));
            var row = File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile))[1];
            Assert.Equal(10, row.Split(',').Length); // no decimal commas among the field separators
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }
}
