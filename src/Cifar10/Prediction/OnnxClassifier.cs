using System.Text.Json;
using Cifar10.Data;
using Cifar10.Export;
using Cifar10.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cifar10.Prediction;

/// <summary>An exported ONNX model (<c>cifar10 export --format onnx</c>) on ONNX Runtime: it takes the
/// uint8 images as they are and normalises them itself; its class names come from its metadata.
/// A file that is not such a model is refused when it is opened, in one line.</summary>
public sealed class OnnxClassifier : IImageClassifier
{
    readonly InferenceSession session;
    readonly string path;

    /// <summary>Opens <paramref name="path"/> on ONNX Runtime and checks its input, outputs and class names; a missing file
    /// or one that is no such model is a <see cref="CheckpointException"/>.</summary>
    /// <param name="path">An ONNX file written by <see cref="Export.ModelExport.SaveOnnx"/>.</param>
    /// <param name="threads">ONNX Runtime's intra-op threads; 0 for its default.</param>
    public OnnxClassifier(string path, int threads = 0)
    {
        if (!File.Exists(path)) throw new CheckpointException($"ONNX model {path} does not exist");
        this.path = path;
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CheckpointException($"{path} is not a usable ONNX model: {OneLine.Of(e.Message)}");
        }
        try
        {
            int classes = CheckSignature(path);
            ClassNames = ReadClassNames(path, classes);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        var input = new DenseTensor<byte>(images.ToArray(), [count, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelExport.OnnxInput, input)], [ModelExport.OnnxProbabilities]);
        return results[0].AsEnumerable<float>().ToArray();
    }

    /// <summary>The network's name, as the export's metadata records it (else the file's name).</summary>
    public string Network => session.ModelMetadata.CustomMetadataMap.TryGetValue("model", out var network) && network.Length > 0
        ? network : Path.GetFileNameWithoutExtension(path);

    /// <summary>The input and output the export writes: uint8 [batch, 3, 32, 32] with a batch of any size, and
    /// float [batch, classes]; returns the number of classes (0 when the graph leaves it open).</summary>
    int CheckSignature(string path)
    {
        const string expectedInput = "uint8 [batch, 3, 32, 32] with a dynamic batch";
        if (!session.InputMetadata.TryGetValue(ModelExport.OnnxInput, out var input) || session.InputMetadata.Count != 1)
            throw new CheckpointException($"{path} takes the inputs {string.Join(", ", session.InputMetadata.Keys)}; expected one, '{ModelExport.OnnxInput}': {expectedInput}");
        var dims = input.Dimensions;
        bool shapeFits = dims.Length == 4 && dims[0] < 0 && dims[1] == ImageDataset.Channels && dims[2] == ImageDataset.ImageSize && dims[3] == ImageDataset.ImageSize;
        if (!input.IsTensor || input.ElementDataType != TensorElementType.UInt8 || !shapeFits)
            throw new CheckpointException($"{path} takes '{ModelExport.OnnxInput}' as {Describe(input)}; expected {expectedInput}");
        if (!session.OutputMetadata.TryGetValue(ModelExport.OnnxProbabilities, out var output))
            throw new CheckpointException($"{path} has no '{ModelExport.OnnxProbabilities}' output (it has {string.Join(", ", session.OutputMetadata.Keys)})");
        if (!output.IsTensor || output.ElementDataType != TensorElementType.Float || output.Dimensions.Length != 2)
            throw new CheckpointException($"{path} gives '{ModelExport.OnnxProbabilities}' as {Describe(output)}; expected float [batch, classes]");
        return Math.Max(0, output.Dimensions[1]);
    }

    static string Describe(NodeMetadata node) => node.IsTensor
        ? $"{node.ElementDataType.ToString().ToLowerInvariant()} [{string.Join(", ", node.Dimensions.Select(d => d < 0 ? "batch" : d.ToString()))}]"
        : "a value that is not a tensor";

    IReadOnlyList<string> ReadClassNames(string path, int classes)
    {
        if (!session.ModelMetadata.CustomMetadataMap.TryGetValue("class_names", out var json))
            throw new CheckpointException($"{path} has no class_names metadata (was it written by cifar10 export?)");
        string[]? names;
        try
        {
            names = JsonSerializer.Deserialize<string[]>(json);
        }
        catch (JsonException)
        {
            names = null;
        }
        if (names is null || names.Length == 0 || names.Any(string.IsNullOrWhiteSpace))
            throw new CheckpointException($"{path}: its class_names metadata is not a JSON list of class names (it is {Quote(json)})");
        if (classes > 0 && names.Length != classes)
            throw new CheckpointException($"{path}: its class_names metadata names {names.Length} classes, its network outputs {classes}");
        return names;
    }

    static string Quote(string text) => text.Length <= 40 ? $"'{OneLine.Of(text)}'" : $"'{OneLine.Of(text[..40])}...'";

    /// <summary>Closes the ONNX Runtime session.</summary>
    public void Dispose() => session.Dispose();
}
