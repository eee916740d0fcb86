using System.Reflection;
using System.Text.Json;
using Cifar10.Data;
using Google.Protobuf;
using Cifar10.Onnx;
using Cifar10.Runs;
using Cifar10.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Cifar10.Export;

/// <summary>The file formats a trained network is exported to.</summary>
public enum ExportFormat
{
    /// <summary>A PyTorch state_dict (<c>torch.save</c>'s zip format) with the PyTorch originals' names and shapes.</summary>
    Pt,
    /// <summary>An ONNX model (opset 17) that takes uint8 images and returns logits and probabilities.</summary>
    Onnx,
}

/// <summary>
/// A trained network out of the toolkit and back in: as a PyTorch state_dict file whose names and
/// shapes are those of the PyTorch originals (kuangliu's pytorch-cifar, torchvision,
/// bench/pytorch/models.py), loadable with <c>model.load_state_dict(torch.load(f))</c>, strict; and
/// as an ONNX model that takes uint8 RGB images and normalises them itself.
/// </summary>
public static class ModelExport
{
    /// <summary>The ONNX model's input: uint8 [batch, 3, 32, 32], planar RGB 0–255 (as the CIFAR files store images).</summary>
    public const string OnnxInput = "images";
    /// <summary>The ONNX model's outputs: [batch, classes] logits and their softmax.</summary>
    public const string OnnxLogits = "logits", OnnxProbabilities = "probabilities";

    /// <summary>
    /// Exports a checkpoint (or a run folder's best, else last); returns the file written. Without
    /// <paramref name="output"/> the file goes beside the checkpoint: model.pt or model.onnx. An existing
    /// file is replaced only with <paramref name="replace"/>, and never one the checkpoint or its run reads
    /// back; a cancelled export leaves no file behind.
    /// </summary>
    public static string Export(string checkpoint, ExportFormat format, string? output = null, bool replace = false,
                                CancellationToken cancellation = default)
    {
        var folder = Checkpoint.Locate(checkpoint);
        var path = Path.GetFullPath(output ?? Path.Combine(folder, DefaultFileName(format)));
        OutputFiles.CheckCanWrite([path], replace);
        var (model, state) = Checkpoint.LoadModel(folder, CPU);
        using (model)
        {
            if (format == ExportFormat.Pt) SavePyTorch(model, path, replace, cancellation);
            else SaveOnnx(model, state, path, replace, cancellation);
            return path;
        }
    }

    /// <summary>The file <see cref="Export"/> writes beside the checkpoint when no output is named.</summary>
    public static string DefaultFileName(ExportFormat format) => format == ExportFormat.Pt ? "model.pt" : "model.onnx";

    /// <summary>The network's state_dict (parameters and buffers, float32, on the CPU) as PyTorch pickles it.</summary>
    public static void SavePyTorch(nn.Module model, string path, bool replace = true, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, value) in model.state_dict())
            tensors[name] = value.detach().cpu().contiguous();
        AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, tensors, leaveOpen: true), replace, cancellation);
    }

    /// <summary>
    /// Loads a PyTorch state_dict file into <paramref name="model"/>, by the original names, all or nothing:
    /// every tensor must be there with its shape, and nothing else. The error lists what is missing,
    /// unexpected and mis-shaped; it comes before any tensor data is read.
    /// </summary>
    public static void LoadPyTorch(nn.Module model, string path)
    {
        switch (ModelFiles.Kind(path))
        {
            case ModelFileKind.NotAFile:
                throw new CheckpointException(Directory.Exists(path) ? $"{path} is a folder, not a PyTorch state_dict file" : $"weights file {path} does not exist");
            case ModelFileKind.Onnx:
                throw new CheckpointException($"{path} is an ONNX model, not a PyTorch state_dict: eval, predict and serve take it as --checkpoint {path}");
            case ModelFileKind.PyTorchLegacy:
                throw new CheckpointException($"{path} is in PyTorch's legacy format (before 1.6, or _use_new_zipfile_serialization=False): " +
                                              "load it in PyTorch and save it again with torch.save(state_dict, path)");
            case ModelFileKind.CheckpointPart:
            case ModelFileKind.Other:
                throw new CheckpointException($"{path} is not a PyTorch state_dict file (torch.save(model.state_dict(), path) writes one)");
        }
        using var file = StateDictFile.Open(path);
        using var scope = NewDisposeScope();
        var expected = model.state_dict();
        var found = file.Tensors();
        CheckNames(path, model, expected, found, file.NestedStateDicts());
        var records = expected.Keys.ToDictionary(name => name, name => found[name]!);
        file.LoadInto(expected, records);
    }

    /// <summary>Throws unless the file has every tensor of the network, with its shape, and nothing else.</summary>
    static void CheckNames(string path, nn.Module model, IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, TensorRecord?> found,
                           IReadOnlyList<string> nested)
    {
        var missing = expected.Keys.Where(k => !found.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == expected.Count && nested.Count > 0)
            throw new CheckpointException($"{path} holds a dict of {string.Join(", ", found.Keys.Take(5))}{(found.Count > 5 ? ", ..." : "")}, not a state_dict: " +
                                          $"the network's tensors are under '{nested[0]}'; save that alone with torch.save(checkpoint['{nested[0]}'], path)");
        var unexpected = found.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var misshaped = expected.Where(e => found.TryGetValue(e.Key, out var t) && (t is null || !t.Shape.SequenceEqual(e.Value.shape)))
            .Select(e => $"{e.Key} ({Shape(found[e.Key])} in the file, {Shape(e.Value.shape)} in {model.GetType().Name})").ToList();
        if (missing.Count + unexpected.Count + misshaped.Count > 0)
            throw new CheckpointException($"{path} does not fit {model.GetType().Name}: " + string.Join("; ", new[]
            {
                List("missing", missing), List("unexpected", unexpected), List("mis-shaped", misshaped),
            }.Where(part => part is not null)));
    }

    static string? List(string what, List<string> names) =>
        names.Count == 0 ? null : $"{names.Count} {what}: {string.Join(", ", names.Take(5))}{(names.Count > 5 ? ", ..." : "")}";

    static string Shape(TensorRecord? t) => t is null ? "not a tensor" : Shape(t.Shape);

    static string Shape(long[] shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>
    /// The network as an ONNX model: input <see cref="OnnxInput"/> (uint8 [batch, 3, 32, 32], RGB 0–255),
    /// cast and normalised inside the graph with the statistics it trained with, outputs
    /// <see cref="OnnxLogits"/> and <see cref="OnnxProbabilities"/>, and the class names, statistics and
    /// network in the metadata.
    /// </summary>
    public static void SaveOnnx(nn.Module<Tensor, Tensor> model, CheckpointState state, string path, bool replace = true,
                                CancellationToken cancellation = default)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var graph = new OnnxGraph();
            var images = graph.Input(OnnxInput, global::Onnx.TensorProto.Types.DataType.Uint8, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize);
            var normalization = state.Normalization;
            var x = graph.Node("Cast", [images], new Dictionary<string, object> { ["to"] = (long)global::Onnx.TensorProto.Types.DataType.Float });
            // (x/255 − mean)/std as (x − 255·mean) · 1/(255·std), the same two steps Normalization takes.
            x = graph.Node("Sub", [x, graph.Constant(normalization.Mean.Select(m => 255f * m).ToArray(), [1, 3, 1, 1], "mean255")]);
            x = graph.Node("Mul", [x, graph.Constant(normalization.Std.Select(s => 1f / (255f * s)).ToArray(), [1, 3, 1, 1], "inv_std255")]);
            var logits = graph.Module(model, x);
            graph.Output(logits, OnnxLogits, state.NumClasses);
            graph.Output(graph.Node("Softmax", [logits], new Dictionary<string, object> { ["axis"] = 1L }), OnnxProbabilities, state.NumClasses);
            var metadata = new Dictionary<string, string>
            {
                ["class_names"] = JsonSerializer.Serialize(state.ClassNames),
                ["model"] = state.Model,
                ["mean"] = JsonSerializer.Serialize(normalization.Mean),
                ["std"] = JsonSerializer.Serialize(normalization.Std),
                ["input"] = $"{OnnxInput}: uint8 [batch, 3, 32, 32], RGB 0-255, planar (CIFAR layout); normalised inside the graph",
            };
            var version = typeof(ModelExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
            var proto = graph.ToModel(metadata, version.Split('+')[0]);
            AtomicFile.Write(path, stream => proto.WriteTo(stream), replace, cancellation);
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
