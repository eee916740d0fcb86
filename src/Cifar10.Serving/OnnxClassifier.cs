using System.Text.Json;
using Cifar10.Data;
using Cifar10.Export;
using Cifar10.Prediction;
using Cifar10.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cifar10.Serving;

/// <summary>An exported ONNX model (<c>cifar10 export --format onnx</c>) on ONNX Runtime: it takes the
/// uint8 images as they are and normalises them itself; its class names come from its metadata.</summary>
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
        ClassNames = session.ModelMetadata.CustomMetadataMap.TryGetValue("class_names", out var names)
            ? JsonSerializer.Deserialize<string[]>(names)!
            : throw new CheckpointException($"{path} has no class_names metadata (was it written by cifar10 export?)");
    }

    public IReadOnlyList<string> ClassNames { get; }

    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        var input = new DenseTensor<byte>(images.ToArray(), [count, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelExport.OnnxInput, input)], [ModelExport.OnnxProbabilities]);
        return results[0].AsEnumerable<float>().ToArray();
    }

    public void Dispose() => session.Dispose();
}
