using System.Diagnostics;
using System.Text.Json;
using Cifar10.Data;
using Cifar10.Export;
using Cifar10.Models;
using Cifar10.Training;
using InferenceSession = Microsoft.ML.OnnxRuntime.InferenceSession;
using NamedOnnxValue = Microsoft.ML.OnnxRuntime.NamedOnnxValue;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<byte>;
using CheckpointState = Cifar10.Training.CheckpointState;
using Tensor = TorchSharp.torch.Tensor;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Cifar10.Tests.Export;

/// <summary>Every network out as a PyTorch state_dict and as ONNX, checked by the other side's runtime.</summary>
[Collection(GlobalTorchState.Name)]
public class ExportTests(ITestOutputHelper output) : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-export-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly string[] BuiltIn = ["simple", "deep", "wide", "tutorial", "vgg16", "resnet18", "resnet18-imagenet", "fast"];

    public static readonly TheoryData<string> Networks = new(BuiltIn);

    /// <summary>A network with batch-norm statistics that are not the initial ones, in eval mode, its
    /// checkpoint state, and random uint8 test images.</summary>
    static (nn.Module<Tensor, Tensor> Model, CheckpointState State, Tensor Images) Network(string name, int classes = 10)
    {
        torch.manual_seed(1);
        var info = ModelCatalog.Get(name);
        // fp32 even where auto would compute in bf16: the exports compute in fp32, and the comparisons are to 1e-4.
        var model = Trainer.CreateModel(Configs.For(name, info.HasDepth ? [("depth", "3"), ("precision", "fp32")] : [("precision", "fp32")]), classes);
        var normalization = new Normalization([0.5f, 0.45f, 0.4f], [0.25f, 0.24f, 0.26f]);
        using (no_grad())
        {
            model.train();
            for (int i = 0; i < 3; i++) model.forward(randn(16, 3, 32, 32) * 1.5 + 0.3).Dispose();
        }
        model.eval();
        var state = new CheckpointState
        {
            Model = name, NumClasses = classes, ClassNames = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray(),
            Mean = normalization.Mean.ToArray(), Std = normalization.Std.ToArray(),
        };
        var images = randint(0, 256, [5, 3, 32, 32], dtype: uint8);
        return (model, state, images);
    }

    static Tensor Logits(nn.Module<Tensor, Tensor> model, CheckpointState state, Tensor images)
    {
        using var noGrad = no_grad();
        return model.forward(state.Normalization.Normalize(images));
    }

    [Fact]
    public void EveryNetworksStateDictLoadsStrictlyIntoItsPyTorchOriginalWithTheSameLogits()
    {
        var cases = new List<object>();
        foreach (var name in BuiltIn)
        {
            var (model, state, images) = Network(name, classes: name == "simple" ? 7 : 10);
            using (model)
            using (images)
            {
                ModelExport.SavePyTorch(model, Path.Combine(root, $"{name}.pt"));
                using var inputs = state.Normalization.Normalize(images);
                using var logits = Logits(model, state, images);
                PyTorchPickler.PickleStateDict(Path.Combine(root, $"{name}.io.pt"), new Dictionary<string, Tensor> { ["inputs"] = inputs, ["logits"] = logits });
                cases.Add(new { model = name, depth = 3, classes = state.NumClasses, weights = $"{name}.pt", io = $"{name}.io.pt" });
            }
        }
        File.WriteAllText(Path.Combine(root, "cases.json"), JsonSerializer.Serialize(cases));

        var script = Path.Combine(Repository.Root, "bench", "pytorch", "load_state_dict.py");
        var (code, stdout, stderr) = Python.Run(script, Path.Combine(root, "cases.json"));
        Assert.True(code == 0, $"PyTorch could not load the exports strictly:\n{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length);
        foreach (var line in lines)
        {
            output.WriteLine(line);
            var parts = line.Split(' ');
            Assert.True(double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) <= 1e-4, $"{parts[0]}: logits differ by {parts[1]}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void EveryNetworksOnnxModelGivesTorchSharpsLogitsInOnnxRuntime(string name)
    {
        var (model, state, images) = Network(name);
        using var _ = model;
        using var __ = images;
        var path = Path.Combine(root, $"{name}.onnx");
        ModelExport.SaveOnnx(model, state, path);
        using var expected = Logits(model, state, images);

        using var session = new InferenceSession(path);
        Assert.Equal(JsonSerializer.Serialize(state.ClassNames), session.ModelMetadata.CustomMetadataMap["class_names"]);
        var input = new DenseTensor(images.data<byte>().ToArray(), [5, 3, 32, 32]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelExport.OnnxInput, input)]);
        var logits = results.First(r => r.Name == ModelExport.OnnxLogits).AsEnumerable<float>().ToArray();
        var probabilities = results.First(r => r.Name == ModelExport.OnnxProbabilities).AsEnumerable<float>().ToArray();
        var reference = expected.data<float>().ToArray();
        double worst = logits.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{name}: max |ONNX Runtime − TorchSharp| = {worst:E2}");
        Assert.True(worst <= 1e-4, $"{name}: logits differ by {worst:E2}");
        Assert.Equal(5.0, probabilities.Sum(), 4);

        // The batch dimension is dynamic: one image works as well as five.
        var single = new DenseTensor(images[0].unsqueeze(0).data<byte>().ToArray(), [1, 3, 32, 32]);
        using var one = session.Run([NamedOnnxValue.CreateFromTensor(ModelExport.OnnxInput, single)]);
        Assert.Equal(10, one.First(r => r.Name == ModelExport.OnnxLogits).AsEnumerable<float>().Count());

        if (Python.Has("onnx"))
        {
            var (code, _, stderr) = Python.Run("-c", $"import onnx; onnx.checker.check_model(onnx.load('{path}'), full_check=True)");
            Assert.True(code == 0, $"onnx.checker rejects {name}: {stderr}");
        }
        else
        {
            output.WriteLine("onnx.checker not run: Debian's python3-onnx is not installed");
        }
    }

    [Fact]
    public void AStateDictImportsByTheOriginalNamesAndAMismatchIsListed()
    {
        var (model, state, images) = Network("resnet18");
        using var _ = model;
        using var __ = images;
        var path = Path.Combine(root, "resnet18.pt");
        ModelExport.SavePyTorch(model, path);
        using var expected = Logits(model, state, images);

        using var fresh = Trainer.CreateModel(Configs.For("resnet18", ("seed", "99")), 10);
        ModelExport.LoadPyTorch(fresh, path);
        fresh.eval();
        using var logits = Logits(fresh, state, images);
        Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-6));

        using var other = Trainer.CreateModel(Configs.For("resnet18-imagenet"), 10);
        var e = Assert.Throws<CheckpointException>(() => ModelExport.LoadPyTorch(other, path));
        // torchvision's names where the file has kuangliu's: downsample and fc against shortcut and linear.
        Assert.Matches("[0-9]+ missing: [^;]*downsample", e.Message);
        Assert.Matches("[0-9]+ unexpected: [^;]*shortcut", e.Message);
        Assert.Contains("mis-shaped: conv1.weight ([64, 3, 3, 3] in the file, [64, 3, 7, 7] in ResNet18ImageNet)", e.Message);
    }
}

/// <summary>The repository's root folder, found from the test binaries.</summary>
static class Repository
{
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cifar10.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Cifar10.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>Debian's Python (/usr/bin/python3), where its PyTorch and ONNX packages live.</summary>
static class Python
{
    const string Executable = "/usr/bin/python3";

    public static bool Has(string module) => File.Exists(Executable) && Run("-c", $"import {module}").Code == 0;

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: apt-get install python3-torch python3-onnx (CI installs them)");
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
