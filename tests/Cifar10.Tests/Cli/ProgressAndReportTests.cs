using System.Globalization;
using Cifar10.Cli;
using Cifar10.Runs;
using Cifar10.Tests.Data;
using Cifar10.Tests.Reporting;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>One finished tiny run (1 epoch of the simple network) measured with test-time augmentation
/// (`--tta`, below a confidence no image has, so it costs one view), with what train printed.</summary>
public sealed class TtaRunFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cifar10-progress-").FullName;
    public string Run => Path.Combine(Root, "run");
    public string Output { get; }

    public TtaRunFixture()
    {
        var trained = Cli.Run(["train", "--epochs", "1", "--tta", "--tta-confidence", "0.05", "--out", Run, .. Cli.Tiny]);
        if (trained.Code != 0) throw new InvalidOperationException(trained.Err);
        Output = trained.Out;
    }

    public string Copy(string to)
    {
        Cli.CopyFolder(Run, to);
        return to;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>Item 3 of "the first hour of a new user": nothing long is silent, `report` does not run the
/// network again, and the commands measure the test set the same way.</summary>
[Collection(GlobalTorchState.Name)]
public class ProgressAndReportTests(TtaRunFixture finished) : IClassFixture<TtaRunFixture>, IDisposable
{
    const string Measured = "best, epoch 1, TTA below 0.05 confidence";
    readonly string root = Directory.CreateTempSubdirectory("cifar10-progress-test-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static string AccuracyOf(string run) =>
        RunFolder.Open(run).ReadResults()!.TestAccuracy.ToString("P2", CultureInfo.CurrentCulture);

    [Fact]
    public void TrainShowsTheTestEvaluationAndKeepsItsPredictions()
    {
        Assert.Contains("1 epoch of batch 64", finished.Output);
        Assert.Contains($"test set ({Measured}): 10,000 images\n", finished.Output.Replace("\r", ""));
        Assert.Contains($"test set ({Measured}): 10,000 images in ", finished.Output);
        var kept = TestPredictions.Read(Path.Combine(finished.Run, TestPredictions.FileName));
        Assert.Equal(Measured, kept.Measurement.Describe());
        Assert.Equal(RunFolder.Open(finished.Run).ReadResults()!.TestAccuracy, kept.Result.Accuracy);
        // `--tta` is the setting `--test-tta` was: config.json records it under its name.
        Assert.Contains("\"tta\": true", File.ReadAllText(Path.Combine(finished.Run, RunFolder.ConfigFile)));
    }

    [Fact]
    public void ReportDrawsFromTheKeptPredictionsWithoutTheNetwork()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        // No checkpoint at all: a report that ran the network could not be written.
        Directory.Delete(Path.Combine(run, "best"), recursive: true);
        Directory.Delete(Path.Combine(run, "last"), recursive: true);
        File.Delete(Path.Combine(run, "report.html"));

        var (code, output, error) = Cli.Run("report", "--checkpoint", run, "--data", RealData.Folder);
        Assert.True(code == Program.Success, error);
        Assert.Contains($"test figures from {TestPredictions.FileName} ({Measured})", output);
        Assert.DoesNotContain("test set (", output); // no evaluation ran
        Assert.Contains($"test accuracy {AccuracyOf(run)} ({Measured})", output);
        Assert.Contains(AccuracyOf(run).Replace(" ", ""), File.ReadAllText(Path.Combine(run, "report.html")).Replace(" ", ""));
    }

    [Fact]
    public void ARunFinishedBeforePredictionsWereKeptIsMeasuredAgainAndSaysSo()
    {
        var run = finished.Copy(Path.Combine(root, "old"));
        File.Delete(Path.Combine(run, TestPredictions.FileName));

        var (code, output, error) = Cli.Run("report", "--run", run, "--data", RealData.Folder); // --run: the spelling before --checkpoint
        Assert.True(code == Program.Success, error);
        Assert.Contains($"has no {TestPredictions.FileName}", output);
        Assert.Contains($"test set ({Measured}): 10,000 images", output);
        Assert.Contains($"test accuracy {AccuracyOf(run)}", output);
        Assert.True(File.Exists(Path.Combine(run, TestPredictions.FileName))); // the next report is quick
    }

    [Fact]
    public void ReevaluateMeasuresTheTestSetAgain()
    {
        var run = finished.Copy(Path.Combine(root, "again"));
        var (code, output, error) = Cli.Run("report", "-c", run, "--reevaluate", "--data", RealData.Folder);
        Assert.True(code == Program.Success, error);
        Assert.Contains("measuring the test set again (--reevaluate)", output);
        Assert.Contains($"test set ({Measured}): 10,000 images in ", output);
        Assert.Contains($"test accuracy {AccuracyOf(run)}", output);
    }

    [Fact]
    public void DamagedPredictionsAreAOneLineFailureThatNamesTheFileAndTheWayOut()
    {
        var run = finished.Copy(Path.Combine(root, "damaged"));
        File.WriteAllText(Path.Combine(run, TestPredictions.FileName), "not a zip");
        var (code, _, error) = Cli.Run("report", "--checkpoint", run, "--data", RealData.Folder);
        Assert.Equal(Program.Failure, code);
        Assert.Contains(TestPredictions.FileName, error);
        Assert.Contains("--reevaluate", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void EvalMeasuresAsTheRunDidUnlessToldOtherwiseAndShowsProgress()
    {
        var run = finished.Copy(Path.Combine(root, "eval"));
        var asTheRun = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder);
        Assert.True(asTheRun.Code == Program.Success, asTheRun.Err);
        Assert.Contains("test set (TTA): 10,000 images", asTheRun.Out);
        Assert.Contains($"test accuracy: {AccuracyOf(run)} (10,000 images, TTA", asTheRun.Out);

        var plain = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder, "--tta", "false");
        Assert.True(plain.Code == Program.Success, plain.Err);
        Assert.Contains("test set: 10,000 images", plain.Out);
        Assert.DoesNotContain("TTA", plain.Out);
    }

    [Fact]
    public void TensorBoardHasEachStepTheSamplePredictionsAndTheSettingsWithTheFinalMetrics()
    {
        var events = TensorBoardFile.ReadFolder(Path.Combine(finished.Run, RunFolder.TensorBoardFolder));
        // 512 training images in batches of 64: 8 steps, numbered as lr.csv numbers them.
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), TensorBoardFile.Values(events, "step/loss").Select(v => v.Step));
        var rates = TensorBoardFile.Values(events, "step/learning_rate").Select(v => (double)v.Value.SimpleValue).ToList();
        Assert.Equal(RunFolder.Open(finished.Run).ReadLearningRates().Select(r => (double)(float)r.LearningRate), rates);
        foreach (var tag in new[] { "test/predictions", "test/most_confident_mistakes" })
            ReportAssert.ValidPng(Assert.Single(TensorBoardFile.Values(events, tag)).Value.Image.EncodedImageString.ToByteArray(), tag);
        var accuracy = Assert.Single(TensorBoardFile.Values(events, "test/accuracy"));
        Assert.Equal((float)RunFolder.Open(finished.Run).ReadResults()!.TestAccuracy, accuracy.Value.SimpleValue);
        var start = Assert.Single(TensorBoardFile.Values(events, "_hparams_/session_start_info")).Value;
        var settings = TensorBoardFile.Fields(TensorBoardFile.Fields(start.Metadata.PluginData.Content).Single().Bytes!)
            .Where(f => f.Number == 1).Select(f => TensorBoardFile.Fields(f.Bytes!)[0].Bytes!.ToStringUtf8()).ToList();
        Assert.Contains("lr", settings);
        Assert.Contains("tta", settings);
        Assert.DoesNotContain("threads", settings); // the machine's, not the run's
    }

    [Fact]
    public void LearningRateFinderSaysHowManyStepsAndHowLongBeforeItRuns()
    {
        var output = Path.Combine(root, "lr-find");
        var (code, text, error) = Cli.Run(["lr-find", "--steps", "10", "--out", output, .. Cli.Tiny]);
        Assert.True(code == Program.Success, error);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.StartsWith("lr-find: 10 steps (learning rate 1e-07 to 10, batch 64", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("lr-find: about ") && l.Contains("for 10 steps"));
        Assert.Contains(lines, l => l.StartsWith("suggested learning rate"));
    }

    [Fact]
    public void SweepEndsWithItsResultsTable()
    {
        var folder = Path.Combine(root, "sweep");
        var (code, output, error) = Cli.Run(["sweep", "--epochs", "1", "--vary", "lr=0.1,0.01", "--out", folder, .. Cli.Tiny]);
        Assert.True(code == Program.Success, error);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int header = lines.FindIndex(l => l.StartsWith("trial ") && l.Contains("best val acc") && l.Contains("test acc"));
        Assert.True(header > lines.FindLastIndex(l => l.StartsWith("test set")), output); // after the last trial
        Assert.StartsWith("lr=0.1 ", lines[header + 1]);
        Assert.StartsWith("lr=0.01 ", lines[header + 2]);
        Assert.Contains("trial 1 (2 of 2) lr=0.01: starting", output);
    }
}
