using Cifar10.Cli;
using Cifar10.Models;
using Cifar10.Runs;
using Cifar10.Training;
using SkiaSharp;
using TorchSharp;
using Xunit;

namespace Cifar10.Tests.Cli;

public class CliTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => Cifar10.Tests.Cli.Cli.Run(args);

    static void AssertOneLineError(string err, string expected)
    {
        Assert.Contains(expected, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", err); // no stack trace without --verbose
    }

    [Theory]
    [InlineData("train --epochs 0", "--epochs must be > 0")]
    [InlineData("train --epochs -3", "--epochs must be > 0")]
    [InlineData("train --batch-size 0", "--batch-size must be > 0")]
    [InlineData("train --lr 0", "--lr must be > 0")]
    [InlineData("train --model nope", "unknown model 'nope'")]
    [InlineData("train --optimizer lion", "unknown optimizer 'lion'")]
    [InlineData("train --bogus 1", "--bogus")]
    [InlineData("frobnicate", "frobnicate")]
    [InlineData("summary --model nope", "unknown model 'nope'")]
    [InlineData("sweep --vary colour=red", "unknown setting 'colour'")]
    public void UsageErrorsExitWithTwoAndOneLine(string args, string expected)
    {
        var (code, _, err) = Run(args.Split(' '));
        Assert.Equal(Program.UsageError, code);
        AssertOneLineError(err, expected);
    }

    [Fact]
    public void MissingCheckpointIsAFailureWithExitOne()
    {
        var missing = Path.Combine(root, "no-such-run");
        var (code, _, err) = Run("eval", "--checkpoint", missing);
        Assert.Equal(Program.Failure, code);
        AssertOneLineError(err, missing);
    }

    [Fact]
    public void VerboseAddsTheStackTrace()
    {
        var (code, _, err) = Run("eval", "--checkpoint", Path.Combine(root, "nope"), "--verbose");
        Assert.Equal(Program.Failure, code);
        Assert.Contains("   at ", err);
    }

    [Fact]
    public void CorruptDataIsAFailureNamingTheFile()
    {
        var archive = Path.Combine(root, "cifar-10-binary.tar.gz");
        File.WriteAllBytes(archive, [0x1f, 0x8b, 8, 0, 1, 2, 3]);
        var (code, _, err) = Run("train", "--model", "simple", "--data", archive, "--out", Path.Combine(root, "run"));
        Assert.Equal(Program.Failure, code);
        AssertOneLineError(err, "cifar-10-binary.tar.gz");
    }

    [Fact]
    public void ExistingRunFolderIsRefusedAndKept()
    {
        var run = Path.Combine(root, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "metrics.csv"), "earlier results");
        var (code, _, err) = Run("train", "--model", "simple", "--out", run, "--data", Path.Combine(root, "unused"));
        Assert.Equal(Program.UsageError, code);
        AssertOneLineError(err, "--force");
        Assert.Equal("earlier results", File.ReadAllText(Path.Combine(run, "metrics.csv")));
    }

    [Fact]
    public void SummaryPrintsTheLayerTableAndCounts()
    {
        var (code, output, _) = Run("summary", "--model", "wide");
        Assert.Equal(Program.Success, code);
        Assert.Contains("Layer (type:depth-idx)", output);
        Assert.Contains("Total params: 2,211,338", output);
        Assert.Contains("Trainable params: 2,211,338", output);
    }

    [Fact]
    public void ModelsListsEveryNetwork()
    {
        var (code, output, _) = Run("models");
        Assert.Equal(Program.Success, code);
        foreach (var info in ModelCatalog.All) Assert.Contains(info.Name, output);
    }

    [Fact]
    public void PredictAnswersReadableFilesAndNamesTheUnreadableOne()
    {
        var checkpoint = Path.Combine(root, "ckpt");
        torch.manual_seed(0);
        using (var model = ModelCatalog.Create("tutorial", new ModelOptions(Depth: 2)))
            Checkpoint.Save(checkpoint, model, null, new CheckpointState { Model = "tutorial", Depth = 2, ClassNames = TinyData.ClassNames });

        var png = Path.Combine(root, "big.png");
        using (var bitmap = new SKBitmap(200, 120, SKColorType.Rgba8888, SKAlphaType.Unpremul))
        {
            bitmap.Erase(new SKColor(200, 30, 30, 128));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(png, data.ToArray());
        }
        var gray = Path.Combine(root, "gray.jpg");
        using (var bitmap = new SKBitmap(new SKImageInfo(17, 45, SKColorType.Gray8)))
        {
            bitmap.Erase(SKColors.Gray);
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            File.WriteAllBytes(gray, data.ToArray());
        }
        var broken = Path.Combine(root, "broken.png");
        File.WriteAllText(broken, "not an image");

        var (code, output, err) = Run("predict", "--checkpoint", checkpoint, png, broken, gray, "--top", "2");
        Assert.Equal(Program.Failure, code);
        Assert.Contains("broken.png", err);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith(png, lines[0]);
        Assert.StartsWith(gray, lines[1]);
        Assert.Equal(2, lines[0].Split('%').Length - 1); // two classes with probabilities
    }
}

/// <summary>`download` end to end, from a file:// copy of the real archive into a fresh cache.</summary>
public class DownloadCliTests : IDisposable
{
    readonly string cache = Directory.CreateTempSubdirectory("cifar10-download-").FullName;

    public void Dispose() => Directory.Delete(cache, recursive: true);

    static string Md5Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(stream));
    }

    [Fact]
    public void DownloadsChecksExtractsAndRefusesAWrongChecksum()
    {
        var archive = Cifar10.Tests.Data.RealData.ArchivePath;
        var url = new Uri(archive).AbsoluteUri;

        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["download", "--url", url, "--md5", new string('0', 32), "--cache", cache], output, error);
        Assert.Equal(Program.Failure, code);
        Assert.Contains("MD5", error.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(Directory.GetFiles(cache, "*", SearchOption.AllDirectories)); // nothing half-downloaded left

        output = new StringWriter();
        code = Program.Run(["download", "--url", url, "--md5", Md5Of(archive), "--cache", cache], output, error);
        Assert.Equal(Program.Success, code);
        Assert.Contains("CIFAR-10 ready in", output.ToString());
        Assert.True(File.Exists(Path.Combine(cache, "cifar-10-batches-bin", "test_batch.bin")));
    }
}

public class ProgressLayoutTests
{
    [Theory]
    [InlineData(80)]
    [InlineData(100)]
    [InlineData(120)]
    [InlineData(200)]
    public void EveryProgressRowFitsTheTerminal(int width)
    {
        var (description, bar) = TrainingConsole.Layout(width);
        // description, bar, "100%", "00:00:03", "00:00:00" and the four gaps between the five columns
        Assert.True(description + bar + 4 + 8 + 8 + 4 <= width, $"{description} + {bar} overflow {width} columns");
        Assert.True(bar >= 6 && description >= 24);
    }
}
