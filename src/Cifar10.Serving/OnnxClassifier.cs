using System.Text.Json;
using Cifar10.Data;
using Cifar10.Export;
using Cifar10.Prediction;
using Cifar10.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cifar10.Serving;

/// <summary>An exported ONNX model (<c>cifar10 export --format onnx</c>) on ONNX Runtime: it takes the
/// uint8 images as they are and normalises them itself; its class names come from its metadata. The
/// model is checked when it is opened (its input, its output, and its class names against the output's
/// width), so that a model the server cannot use is refused at start-up rather than on each request.</summary>
public sealed class OnnxClassifier : IImageClassifier
{
    readonly InferenceSession session;

    public OnnxClassifier(string path, int threads = 0)
    {
        if (!File.Exists(path)) throw new CheckpointException($"ONNX model {path} does not exist");
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CheckpointException($"{path} is not a usable ONNX model: {e.Message.Split('\n')[0].Trim()}");
        }
        try
        {
            var metadata = session.ModelMetadata.CustomMetadataMap;
            ClassNames = ReadClassNames(path, metadata);
            Network = metadata.TryGetValue("model", out var network) && network.Length > 0 ? network : Path.GetFileNameWithoutExtension(path);
            CheckInput(path);
            CheckOutput(path);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The network's name, as the metadata records it.</summary>
    public string Network { get; }

    static string[] ReadClassNames(string path, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("class_names", out var json))
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
        if (names is not { Length: > 0 } || names.Any(string.IsNullOrWhiteSpace))
            throw new CheckpointException($"{path}: its class_names metadata is not a JSON list of names");
        return names;
    }

    /// <summary>uint8 [batch, 3, 32, 32] with a batch of any size, as <see cref="ModelExport.SaveOnnx"/> declares it.</summary>
    void CheckInput(string path)
    {
        const string expected = "uint8 [batch, 3, 32, 32] with a dynamic batch";
        if (!session.InputMetadata.TryGetValue(ModelExport.OnnxInput, out var input) || session.InputMetadata.Count != 1)
            throw new CheckpointException($"{path} takes the inputs {string.Join(", ", session.InputMetadata.Keys)}; expected one, '{ModelExport.OnnxInput}': {expected}");
        var dims = input.Dimensions;
        bool shapeFits = dims.Length == 4 && dims[0] < 0 && dims[1] == ImageDataset.Channels && dims[2] == ImageDataset.ImageSize && dims[3] == ImageDataset.ImageSize;
        if (!input.IsTensor || input.ElementDataType != TensorElementType.UInt8 || !shapeFits)
            throw new CheckpointException($"{path} takes '{ModelExport.OnnxInput}' as {Describe(input)}; expected {expected}");
    }

    /// <summary>float [batch, classes], one column per class name.</summary>
    void CheckOutput(string path)
    {
        if (!session.OutputMetadata.TryGetValue(ModelExport.OnnxProbabilities, out var output))
            throw new CheckpointException($"{path} has no '{ModelExport.OnnxProbabilities}' output (it has {string.Join(", ", session.OutputMetadata.Keys)})");
        var dims = output.Dimensions;
        if (!output.IsTensor || output.ElementDataType != TensorElementType.Float || dims.Length != 2)
            throw new CheckpointException($"{path} gives '{ModelExport.OnnxProbabilities}' as {Describe(output)}; expected float [batch, classes]");
        if (dims[1] > 0 && dims[1] != ClassNames.Count)
            throw new CheckpointException($"{path} gives {dims[1]} probabilities per image but its metadata names {ClassNames.Count} classes");
    }

    static string Describe(NodeMetadata node) => node.IsTensor
        ? $"{node.ElementDataType.ToString().ToLowerInvariant()} [{string.Join(", ", node.Dimensions.Select(d => d < 0 ? "batch" : d.ToString()))}]"
        : "a value that is not a tensor";

    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        var input = new DenseTensor<byte>(images.ToArray(), [count, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelExport.OnnxInput, input)], [ModelExport.OnnxProbabilities]);
        return results[0].AsEnumerable<float>().ToArray();
    }

    public void Dispose() => session.Dispose();
}
