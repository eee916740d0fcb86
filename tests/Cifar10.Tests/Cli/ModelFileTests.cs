using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cifar10.Cli;
using Cifar10.Tests.Data;
using Cifar10.Tests.Export;
using Google.Protobuf;
using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>The files a user hands to --checkpoint and --weights: an exported ONNX model runs wherever a
/// checkpoint does; a PyTorch state_dict loads whatever its layout; any other file, or a damaged one, gets
/// one line that says what it is and what to do, never "not found" for a file that exists, nor .NET's or
/// libtorch's own words.</summary>
[Collection(GlobalTorchState.Name)]
public class ModelFileTests(FinishedRunFixture finished, OddStateDictFiles odd)
    : IClassFixture<FinishedRunFixture>, IClassFixture<OddStateDictFiles>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-model-files-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static void AssertOneLineError(string err, string expected)
    {
        Assert.Contains(expected, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", err);
        foreach (var leak in new[] { "Exception", "frame #", "   at ", "System.", "Cifar10.Training" })
            Assert.DoesNotContain(leak, err);
    }

    /// <summary>Ten classes of two small images each in train/ and test/: data for the 10-class deep network in a second.</summary>
    string TenClassFolder()
    {
        var data = Path.Combine(root, "ten");
        for (int c = 0; c < 10; c++)
            foreach (var split in new[] { "train", "test" })
            {
                var folder = Path.Combine(data, split, $"class{c}");
                Directory.CreateDirectory(folder);
                for (int i = 0; i < 2; i++)
                    File.WriteAllBytes(Path.Combine(folder, $"{i}.png"),
                                       ImageFolders.Image(new SKColor((byte)(25 * c), (byte)(100 + 60 * i), 40), 32, 32, SKEncodedImageFormat.Png));
            }
        return data;
    }

    [Fact]
    public void StateDictsPyTorchLoadsEvaluateAsTheExportedOne()
    {
        var data = TenClassFolder();
        string AccuracyLine(string file)
        {
            var (code, output, err) = Cli.Run("eval", "--weights", file, "--model", "deep", "--data", data, "--threads", "1", "--out", Path.Combine(root, "eval", Path.GetFileNameWithoutExtension(file)));
            Assert.True(code == 0, $"{file}: {err}");
            return output.Split('\n').Single(line => line.StartsWith("test accuracy"));
        }
        var expected = AccuracyLine(odd.Exported);
        foreach (var name in new[] { "noncontiguous.pt", "shared.pt", "bomb.pt" })
            Assert.Equal(expected, AccuracyLine(odd.File(name)));
    }

    [Theory]
    [InlineData("torchscript.pt", "is a TorchScript archive (torch.jit.save), not a state_dict")]
    [InlineData("module.pt", "is not a state_dict of tensors: it holds a models.DeepNet object")]
    [InlineData("checkpoint.pt", "holds a dict of model, epoch, not a state_dict: the network's tensors are under 'model'")]
    [InlineData("legacy.pt", "is in PyTorch's legacy format")]
    [InlineData("deep.onnx", "is an ONNX model, not a PyTorch state_dict: eval, predict and serve take it as --checkpoint")]
    public void FilesThatAreNotStateDictsAreNamedForWhatTheyAre(string name, string expected)
    {
        var (code, _, err) = Cli.Run("eval", "--weights", odd.File(name), "--model", "deep", "--data", RealData.Folder, "--threads", "1");
        Assert.Equal(Program.Failure, code);
        AssertOneLineError(err, $"{odd.File(name)} {expected}");
    }

    string Image()
    {
        var path = Path.Combine(root, "green.png");
        File.WriteAllBytes(path, ImageFolders.Image(SKColors.ForestGreen, 40, 30, SKEncodedImageFormat.Png));
        return path;
    }

    (string Run, string Onnx) RunWithOnnx()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var exported = Cli.Run("export", "--checkpoint", run, "--format", "onnx");
        Assert.True(exported.Code == 0, exported.Err);
        return (run, Path.Combine(run, "best", "model.onnx"));
    }

    [Fact]
    public void PredictTakesAnExportedOnnxModelAsItsCheckpoint()
    {
        var (run, onnx) = RunWithOnnx();
        var image = Image();
        foreach (var tta in new[] { Array.Empty<string>(), ["--tta"] })
        {
            var fromCheckpoint = Cli.Run(["predict", "--checkpoint", run, "--json", "--top", "10", image, .. tta]);
            var fromOnnx = Cli.Run(["predict", "--checkpoint", onnx, "--json", "--top", "10", image, .. tta]);
            Assert.True(fromOnnx.Code == 0, fromOnnx.Err);
            var expected = Probabilities(fromCheckpoint.Out);
            var actual = Probabilities(fromOnnx.Out);
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            Assert.All(expected, p => Assert.Equal(p.Value, actual[p.Key], 4));
        }
    }

    static Dictionary<string, double> Probabilities(string jsonLine) =>
        JsonDocument.Parse(jsonLine).RootElement.GetProperty("top").EnumerateArray()
                    .ToDictionary(c => c.GetProperty("class").GetString()!, c => c.GetProperty("probability").GetDouble());

    [Fact]
    public void EvalTakesAnExportedOnnxModelWithTheRunsOwnData()
    {
        var (run, onnx) = RunWithOnnx();
        foreach (var tta in new[] { Array.Empty<string>(), ["--tta"] })
        {
            var fromCheckpoint = Cli.Run(["eval", "--checkpoint", run, "--threads", "1", .. tta]);
            var fromOnnx = Cli.Run(["eval", "--checkpoint", onnx, "--threads", "1", .. tta]); // no --data: the run's, from config.json
            Assert.True(fromOnnx.Code == 0, fromOnnx.Err);
            var (accuracy, loss) = AccuracyAndLoss(fromCheckpoint.Out);
            var (onnxAccuracy, onnxLoss) = AccuracyAndLoss(fromOnnx.Out);
            Assert.Equal(accuracy, onnxAccuracy, 0.02); // percent: at most a near-tie or two of 10,000 images
            Assert.Equal(loss, onnxLoss, 0.001);
            Assert.Contains(Path.Combine(run, "best", "eval-model" + (tta.Length > 0 ? "-tta" : "")), fromOnnx.Out);
        }
    }

    static (double Accuracy, double Loss) AccuracyAndLoss(string output)
    {
        var match = Regex.Match(output, @"test accuracy: ([0-9.]+) ?% \(10,000 images.*\), loss ([0-9.]+)");
        Assert.True(match.Success, output);
        return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("predict", "model.bin", "is a file of the checkpoint")]
    [InlineData("eval", "state.json", "is a file of the checkpoint")]
    [InlineData("predict", "weights.pt", "is a PyTorch file, not a checkpoint: evaluate a state_dict with eval --weights")]
    [InlineData("predict", "notes.txt", "is a file, not a checkpoint: --checkpoint takes a run folder, a checkpoint folder")]
    [InlineData("export", "model.onnx", "is an ONNX model: predict, eval and serve take it as --checkpoint; this command needs a run folder")]
    public void ACheckpointOptionGivenAFileSaysWhatTheFileIs(string command, string file, string expected)
    {
        var (run, onnx) = RunWithOnnx();
        var path = file switch
        {
            "model.bin" or "state.json" => Path.Combine(run, "best", file),
            "model.onnx" => onnx,
            "weights.pt" => odd.Exported,
            _ => Path.Combine(root, file),
        };
        if (file == "notes.txt") File.WriteAllText(path, "not a network");
        var args = command switch
        {
            "predict" => new[] { "predict", "--checkpoint", path, Image() },
            "eval" => ["eval", "--checkpoint", path],
            _ => ["export", "--checkpoint", path, "--format", "pt", "--out", Path.Combine(root, "out.pt")],
        };
        var (code, _, err) = Cli.Run(args);
        Assert.Equal(Program.UsageError, code);
        AssertOneLineError(err, $"{path} {expected}");
        Assert.DoesNotContain("not found", err);
    }

    [Theory]
    [InlineData("num_classes", "-3", "num_classes is -3; a classifier has at least 2")]
    [InlineData("num_classes", "4", "class_names has 10 names for num_classes 4")]
    [InlineData("class_names", "[\"a\", \"b\"]", "class_names has 2 names for num_classes 10")]
    [InlineData("class_names", "null", "class_names is null")]
    [InlineData("mean", "[0.5, 0.5]", "mean has 2 values; it needs one per channel (3)")]
    [InlineData("mean", "null", "mean is null")]
    [InlineData("std", "[0, 0, 0]", "std is [0, 0, 0]; each must be a positive number")]
    [InlineData("dropout", "0.5", "dropout is set (0.5) for simple, which has no dropout layer")]
    [InlineData("model", "\"nope\"", "model 'nope' is not registered")]
    [InlineData("model", "5", "model (line 1) is not a string")]
    [InlineData("precision", "\"fp99\"", "precision (line 1) is not one of auto, fp32, bf16")]
    public void MalformedStateJsonValuesAreOneLineNamingTheFileAndTheValue(string key, string value, string expected)
    {
        var checkpoint = Path.Combine(root, "checkpoint");
        Cli.CopyFolder(Path.Combine(finished.Run, "best"), checkpoint);
        var state = Path.Combine(checkpoint, "state.json");
        var json = JsonNode.Parse(File.ReadAllText(state))!.AsObject();
        json[key] = JsonNode.Parse(value);
        File.WriteAllText(state, json.ToJsonString()); // on one line
        var (code, _, err) = Cli.Run("predict", "--checkpoint", checkpoint, Image());
        Assert.Equal(Program.Failure, code);
        AssertOneLineError(err, state);
        Assert.Contains(expected, err);
    }

    [Theory]
    [InlineData("not json", "its class_names metadata is not a JSON list of class names (it is 'not json')")]
    [InlineData("[\"cat\", \"dog\"]", "its class_names metadata names 2 classes, its network outputs 10")]
    [InlineData("[\"\", \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\"]", "its class_names metadata is not a JSON list of class names")]
    public void MalformedOnnxMetadataIsOneLineNamingTheFile(string classNames, string expected)
    {
        var (_, onnx) = RunWithOnnx();
        var model = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        model.MetadataProps.Single(p => p.Key == "class_names").Value = classNames;
        var damaged = Path.Combine(root, "damaged.onnx");
        File.WriteAllBytes(damaged, model.ToByteArray());
        var (code, _, err) = Cli.Run("predict", "--checkpoint", damaged, Image());
        Assert.Equal(Program.Failure, code);
        AssertOneLineError(err, $"{damaged}: {expected}");
    }

    [Fact]
    public void LibTorchsStackFramesNeverReachAMessage()
    {
        // What TorchSharp's ExternalException carries after libtorch's own message.
        var message = "shape '[3, 1, 1]' is invalid for input of size 2\nException raised from infer_size_impl at /pytorch/aten/src/ATen/InferSize.h:99 " +
                      "(most recent call first):\nframe #0: c10::Error::Error(c10::SourceLocation, std::string) + 0xb0 (0x7ef4 in libc10.so)\nframe #1: [0x7f00]\n";
        Assert.Equal("checkpoint x cannot be loaded: shape '[3, 1, 1]' is invalid for input of size 2",
                     new Cifar10.Training.CheckpointException($"checkpoint x cannot be loaded: {message}").Message);
    }
}
