using System.Net.Http.Headers;
using System.Text.Json;
using Cifar10.Cli;
using Cifar10.Runs;
using Cifar10.Tests.Data;
using Cifar10.Training;
using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>Your images in, your model out, through the command line: image folders, CIFAR-100,
/// export and import, predict --json, and the server as a process.</summary>
[Collection(GlobalTorchState.Name)]
public class DataAndModelOutTests(FinishedRunFixture finished) : IClassFixture<FinishedRunFixture>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-in-out-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly string[] Small = ["--model", "simple", "--epochs", "1", "--batch-size", "16", "--threads", "1"];

    [Fact]
    public void AnImageFolderTrainsAndEveryCommandUsesItsClassNames()
    {
        var data = Path.Combine(root, "pets");
        ImageFolders.Write(data, perClass: 12, test: false);
        var run = Path.Combine(root, "run");
        var trained = Cli.Run(["train", .. Small, "--data", data, "--test-size", "9", "--val-size", "6", "--out", run]);
        Assert.True(trained.Code == 0, trained.Err + trained.Out);
        Assert.Contains("image folder", trained.Out);
        var config = RunFolder.Open(run).ReadManifest().Config;
        Assert.Equal(Cifar10.Data.DatasetKind.Folder, config.Dataset); // "auto", resolved and recorded
        Assert.Equal("class,correct,total,accuracy", File.ReadLines(Path.Combine(run, "per_class_accuracy.csv")).First());
        Assert.Equal(["birds", "cats", "dogs"], File.ReadLines(Path.Combine(run, "per_class_accuracy.csv")).Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal(9, File.ReadLines(Path.Combine(run, "confusion_matrix.csv")).Skip(1).Sum(l => l.Split(',').Skip(1).Sum(int.Parse)));

        var evaluated = Cli.Run("eval", "--checkpoint", run); // the run's own data and held-out test set
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Contains("(9 images", evaluated.Out);
        Assert.Contains("cats", evaluated.Out);

        var image = Path.Combine(data, "train", "cats", "0.png");
        var predicted = Cli.Run("predict", "--checkpoint", run, "--json", "--top", "2", image, Path.Combine(root, "missing.png"));
        Assert.Equal(Program.Failure, predicted.Code);
        var lines = predicted.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(image, lines[0].GetProperty("path").GetString());
        Assert.Equal(2, lines[0].GetProperty("top").GetArrayLength());
        Assert.Contains(lines[0].GetProperty("top")[0].GetProperty("class").GetString(), new[] { "birds", "cats", "dogs" });
        Assert.Contains("file not found", lines[1].GetProperty("error").GetString());
    }

    [Fact]
    public void Cifar100TrainsWithItsFineOrCoarseLabels()
    {
        SyntheticCifar100.Write(root, train: 50_000, test: 10_000);
        var data = Path.Combine(root, "cifar-100-binary");
        foreach (var (labels, classes) in new[] { ("fine", 100), ("coarse", 20) })
        {
            var run = Path.Combine(root, labels);
            var trained = Cli.Run("train", "--model", "simple", "--epochs", "1", "--threads", "1", "--dataset", "cifar100", "--labels", labels,
                                  "--subset", "512", "--val-size", "128", "--batch-size", "64", "--data", data, "--out", run);
            Assert.True(trained.Code == 0, trained.Err);
            Assert.Equal(classes, Checkpoint.ReadState(Path.Combine(run, "best")).NumClasses);
            Assert.Equal(classes + 1, File.ReadLines(Path.Combine(run, "confusion_matrix.csv")).Count());
        }
    }

    [Fact]
    public void ExportedWeightsComeBackInByTheirOriginalNames()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var pt = Path.Combine(root, "simple.pt");
        var exported = Cli.Run("export", "--checkpoint", run, "--format", "pt", "--out", pt);
        Assert.True(exported.Code == 0, exported.Err);
        var onnx = Cli.Run("export", "--checkpoint", run, "--format", "onnx");
        Assert.True(onnx.Code == 0, onnx.Err);
        Assert.True(File.Exists(Path.Combine(run, "best", "model.onnx")));

        // eval of the state_dict with its network gives the checkpoint's accuracy.
        var fromCheckpoint = Cli.Run("eval", "--checkpoint", run, "--data", RealData.Folder);
        var fromWeights = Cli.Run("eval", "--weights", pt, "--model", "simple", "--data", RealData.Folder);
        Assert.True(fromWeights.Code == 0, fromWeights.Err);
        static string Accuracy(string output) => output.Split('\n').First(l => l.StartsWith("test accuracy"));
        Assert.Equal(Accuracy(fromCheckpoint.Out), Accuracy(fromWeights.Out));

        // A run that starts from the weights starts where the exported one ended.
        var continued = Path.Combine(root, "continued");
        var trained = Cli.Run(["train", "--init-from", pt, "--epochs", "1", "--lr", "1e-9", "--schedule", "constant", "--out", continued, .. Cli.Tiny]);
        Assert.True(trained.Code == 0, trained.Err);
        var manifest = RunFolder.Open(continued).ReadManifest();
        Assert.Equal(Path.GetFullPath(pt), manifest.InitFrom);
        Assert.Matches("^[0-9a-f]{64}$", manifest.InitFromSha256);
        var before = RunFolder.Open(run).ReadResults()!.BestValAccuracy; // the exported checkpoint is the best one
        Assert.Equal(before, RunFolder.Open(continued).ReadMetrics()[0].ValAccuracy, 2);

        var wrong = Cli.Run("eval", "--weights", pt, "--model", "deep", "--data", RealData.Folder, "--out", Path.Combine(root, "eval-deep"));
        Assert.Equal(Program.Failure, wrong.Code);
        Assert.Contains("does not fit DeepNet", wrong.Err);
        Assert.Contains("missing", wrong.Err);
    }

    [Fact]
    public async Task TheServerAnswersAndDrainsOnSigterm()
    {
        if (!OperatingSystem.IsLinux()) return;
        var run = finished.Copy(Path.Combine(root, "run"));
        int port = FreePort();
        using var server = Cli.Start("serve", "--checkpoint", run, "--port", port.ToString());
        Assert.True(server.WaitUntil(() => server.Out.Contains("serving"), TimeSpan.FromSeconds(60)), server.Err);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var bitmap = new SKBitmap(50, 40);
        bitmap.Erase(SKColors.ForestGreen);
        var body = new ByteArrayContent(bitmap.Encode(SKEncodedImageFormat.Png, 90).ToArray());
        body.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var response = await client.PostAsync("predict", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        server.Signal(CliProcess.SigTerm);
        Assert.Equal(Program.Success, server.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped", server.Out);
    }

    static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
