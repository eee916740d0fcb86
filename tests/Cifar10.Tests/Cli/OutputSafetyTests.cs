using System.Diagnostics;
using Cifar10.Cli;
using Cifar10.Models;
using Cifar10.Runs;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>What export, eval, lr-find and sweep do with files that are already there: a user's file is never
/// replaced without --force, a checkpoint or a run's own file never, and a killed writer's temporary
/// does not outlive the next write into its folder.</summary>
[Collection(GlobalTorchState.Name)]
public class OutputSafetyTests(FinishedRunFixture finished) : IClassFixture<FinishedRunFixture>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-outputs-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static void AssertOneLine(string err) => Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    static void AssertUnchanged(Dictionary<string, byte[]> before, string folder)
    {
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, pair => Assert.Equal(pair.Value, File.ReadAllBytes(pair.Key)));
    }

    [Fact]
    public void ExportRefusesAnExistingFileUnlessForced()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var thesis = Path.Combine(root, "thesis.docx");
        File.WriteAllText(thesis, "three years of work");

        var (code, _, err) = Cli.Run("export", "--checkpoint", run, "--format", "pt", "--out", thesis);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains($"{thesis} already exists; pass --force", err);
        AssertOneLine(err);
        Assert.Equal("three years of work", File.ReadAllText(thesis));

        var forced = Cli.Run("export", "--checkpoint", run, "--format", "pt", "--out", thesis, "--force");
        Assert.True(forced.Code == 0, forced.Err);
        Assert.NotEqual("three years of work", File.ReadAllText(thesis));

        // The default file beside the checkpoint is no exception.
        Assert.Equal(0, Cli.Run("export", "--checkpoint", run, "--format", "onnx").Code);
        var onnx = Path.Combine(run, "best", "model.onnx");
        var written = File.ReadAllBytes(onnx);
        Assert.Equal(Program.UsageError, Cli.Run("export", "--checkpoint", run, "--format", "onnx").Code);
        Assert.Equal(written, File.ReadAllBytes(onnx));
    }

    [Theory]
    [InlineData("best/model.bin")]
    [InlineData("best/state.json")]
    [InlineData("last/optimizer.bin")]
    [InlineData("config.json")]
    [InlineData("report.html")]
    public void ExportNeverWritesOverAFileOfTheCheckpointOrItsRun(string file)
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var before = Snapshot(run);
        var (code, _, err) = Cli.Run("export", "--checkpoint", run, "--format", "pt", "--out", Path.Combine(run, file), "--force");
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("never replaced", err);
        AssertOneLine(err);
        AssertUnchanged(before, run);
    }

    [Fact]
    public void EvalRefusesExistingOutputFilesUnlessForcedAndNeverWritesIntoTheRunsOwn()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var mine = Path.Combine(root, "mine");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "eval.json"), "my own eval.json");

        var (code, _, err) = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder, "--out", mine);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("eval.json already exists; pass --force", err);
        AssertOneLine(err);
        Assert.Equal(["eval.json"], Directory.GetFiles(mine).Select(Path.GetFileName));
        Assert.Equal("my own eval.json", File.ReadAllText(Path.Combine(mine, "eval.json")));

        var forced = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder, "--out", mine, "--force");
        Assert.True(forced.Code == 0, forced.Err);
        Assert.Contains("\"accuracy\"", File.ReadAllText(Path.Combine(mine, "eval.json")));

        // The default folder (eval-best in the run) once; a second time only with --force.
        Assert.Equal(0, Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder).Code);
        var again = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder);
        Assert.Equal(Program.UsageError, again.Code);
        Assert.Contains("eval-best", again.Err);

        // The run's own report tables are not an evaluation's to replace, --force or not.
        var before = Snapshot(run);
        var intoRun = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder, "--out", run, "--force");
        Assert.Equal(Program.UsageError, intoRun.Code);
        Assert.Contains("never replaced", intoRun.Err);
        AssertUnchanged(before, run);
    }

    [Fact]
    public void LrFindRefusesExistingOutputFilesUnlessForced()
    {
        var mine = Path.Combine(root, "mine");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "lr_find.csv"), "my own lr_find.csv");
        string[] LrFind(string folder, params string[] more) => ["lr-find", "--steps", "10", .. Cli.Tiny, "--out", folder, .. more];

        var (code, output, err) = Cli.Run(LrFind(mine));
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("lr_find.csv already exists; pass --force", err);
        AssertOneLine(err);
        Assert.DoesNotContain("lr-find: ", output); // refused before the finder spent a step
        Assert.Equal(["lr_find.csv"], Directory.GetFiles(mine).Select(Path.GetFileName));
        Assert.Equal("my own lr_find.csv", File.ReadAllText(Path.Combine(mine, "lr_find.csv")));

        var forced = Cli.Run(LrFind(mine, "--force"));
        Assert.True(forced.Code == 0, forced.Err);
        Assert.StartsWith("lr,loss", File.ReadAllText(Path.Combine(mine, "lr_find.csv")));
        Assert.True(File.Exists(Path.Combine(mine, "lr_find.png")));
    }

    [Fact]
    public void ASweepWritesOnlyIntoAnEmptyFolderOrItsOwn()
    {
        var folder = Path.Combine(root, "results");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "index.html"), "<p>my home page</p>");
        File.WriteAllText(Path.Combine(folder, "results.md"), "# my results");
        static string[] Sweep(string folder, int trial, string vary = "lr=0.05,0.01") =>
            ["sweep", "--epochs", "1", "--vary", vary, "--trial-index", trial.ToString(), .. Cli.Tiny, "--out", folder];

        var (code, _, err) = Cli.Run(Sweep(folder, 0));
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("neither empty nor a sweep folder", err);
        AssertOneLine(err);
        Assert.Equal(["index.html", "results.md"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
        Assert.Equal("<p>my home page</p>", File.ReadAllText(Path.Combine(folder, "index.html")));

        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(empty);
        var swept = Cli.Run(Sweep(empty, 0));
        Assert.True(swept.Code == 0, swept.Err);
        Assert.True(File.Exists(Path.Combine(empty, "index.html")));
        // Its own sweep continues (the other trial); a different one is refused.
        var continued = Cli.Run(Sweep(empty, 1));
        Assert.True(continued.Code == 0, continued.Err);
        Assert.Equal(Program.UsageError, Cli.Run(Sweep(empty, 0, "lr=0.2")).Code);
    }

    /// <summary>An untrained resnet18 checkpoint: a 45 MB export, long enough to be stopped mid-write.</summary>
    string LargeCheckpoint()
    {
        var folder = Path.Combine(root, "resnet18");
        using var model = ModelCatalog.Create("resnet18");
        Checkpoint.Save(folder, model, null, new CheckpointState
        {
            Model = "resnet18", NumClasses = 10, ClassNames = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")],
        });
        return folder;
    }

    static string[] Temporaries(string folder) => Directory.GetFiles(folder, ".*.tmp");

    const int SigKill = 9;

    /// <summary>Starts `export` until one is caught mid-write (its temporary exists) and sends it
    /// <paramref name="signal"/>; returns its exit code, or null if every try had finished first.</summary>
    static int? SignalAnExportMidWrite(string checkpoint, string output, int signal)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var file = Path.Combine(output, $"model-{attempt}.pt");
            using var export = Cli.Start("export", "--checkpoint", checkpoint, "--format", "pt", "--out", file);
            var clock = Stopwatch.StartNew();
            while (!export.HasExited && Temporaries(output).Length == 0 && clock.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(1);
            if (export.HasExited || Temporaries(output).Length == 0) continue;
            export.Signal(signal);
            var code = export.WaitForExit(TimeSpan.FromSeconds(30));
            if (code != Program.Success) return code;
        }
        return null;
    }

    [Fact]
    public void AKilledExportsTemporaryIsRemovedByTheNextWriteIntoItsFolder()
    {
        if (!OperatingSystem.IsLinux()) return;
        var output = Path.Combine(root, "exports");
        Directory.CreateDirectory(output);
        Assert.NotNull(SignalAnExportMidWrite(LargeCheckpoint(), output, SigKill));
        Assert.NotEmpty(Temporaries(output));

        var run = finished.Copy(Path.Combine(root, "run"));
        var next = Cli.Run("export", "--checkpoint", run, "--format", "onnx", "--out", Path.Combine(output, "small.onnx"));
        Assert.True(next.Code == 0, next.Err);
        Assert.Empty(Temporaries(output));
    }

    [Fact]
    public void CtrlCStopsAnExportAndLeavesNoFileBehind()
    {
        if (!OperatingSystem.IsLinux()) return;
        var output = Path.Combine(root, "exports");
        Directory.CreateDirectory(output);
        Assert.Equal(Program.Interrupted, SignalAnExportMidWrite(LargeCheckpoint(), output, CliProcess.SigInt));
        Assert.Empty(Directory.GetFileSystemEntries(output));
    }

    [Fact]
    public void OnlyTheTemporariesOfWritersThatAreGoneAreRemoved()
    {
        var output = Path.Combine(root, "exports");
        Directory.CreateDirectory(output);
        using var ended = Process.Start("true")!;
        ended.WaitForExit();
        var old = DateTime.UtcNow - AtomicFile.AbandonedAfter - TimeSpan.FromMinutes(1);
        string Plant(string name, DateTime? modified = null)
        {
            var path = Path.Combine(output, name);
            File.WriteAllText(path, "partial");
            if (modified is { } time) File.SetLastWriteTimeUtc(path, time);
            return path;
        }
        var endedWriter = Plant(AtomicFile.TemporaryName("model.pt", ended.Id));
        var oldFromElsewhere = Plant($".model.pt.another-host.4242.{Guid.NewGuid():N}.tmp", old);
        var oldOfAnEarlierVersion = Plant($".model.pt.{Guid.NewGuid():N}.tmp", old);
        var liveWriter = Plant(AtomicFile.TemporaryName("model.pt", Environment.ProcessId));
        var recentFromElsewhere = Plant($".model.pt.another-host.4242.{Guid.NewGuid():N}.tmp");
        var oldButHeld = Plant($".model.pt.another-host.4343.{Guid.NewGuid():N}.tmp", old);
        var users = Plant(".notes.tmp", old);

        using (new FileStream(oldButHeld, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var run = finished.Copy(Path.Combine(root, "run"));
            var exported = Cli.Run("export", "--checkpoint", run, "--format", "onnx", "--out", Path.Combine(output, "model.onnx"));
            Assert.True(exported.Code == 0, exported.Err);
        }
        Assert.False(File.Exists(endedWriter));
        Assert.False(File.Exists(oldFromElsewhere));
        Assert.False(File.Exists(oldOfAnEarlierVersion));
        Assert.True(File.Exists(liveWriter));
        Assert.True(File.Exists(recentFromElsewhere));
        Assert.True(File.Exists(oldButHeld));
        Assert.True(File.Exists(users));
    }
}
