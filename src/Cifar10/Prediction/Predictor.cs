using Cifar10.Data;

namespace Cifar10.Prediction;

/// <summary>One class of a prediction and how probable the network finds it.</summary>
/// <param name="ClassName">The class, as the checkpoint (or ONNX model) names it.</param>
/// <param name="Probability">The network's probability for it, 0 to 1 (averaged over the views with test-time augmentation).</param>
public sealed record ClassProbability(string ClassName, double Probability)
{
    /// <summary>Its JSON form, as <c>predict --json</c> and the server's /predict write it: <c>class</c> and
    /// <c>probability</c> rounded to 6 digits; null for a probability that is not a number (a network that diverged),
    /// as in the toolkit's files, since JSON has no NaN.</summary>
    public object ToJson() => new { @class = ClassName, probability = double.IsFinite(Probability) ? Math.Round(Probability, 6) : (double?)null };
}

/// <summary>The answer for one image: its top classes, or why it could not be read.</summary>
/// <param name="Path">The image's path, or an upload's name.</param>
/// <param name="Top">The most probable classes, most probable first; empty when the image could not be read.</param>
/// <param name="Error">Why the image could not be read (one line), or null.</param>
public sealed record Prediction(string Path, IReadOnlyList<ClassProbability> Top, string? Error)
{
    /// <summary>Whether the image was read and classified (<see cref="Error"/> is null).</summary>
    public bool Succeeded => Error is null;
}

/// <summary>
/// A trained network as a function from images to class probabilities, whatever runs it
/// (TorchSharp: <see cref="TorchClassifier"/>; ONNX Runtime: <see cref="OnnxClassifier"/>).
/// </summary>
public interface IImageClassifier : IDisposable
{
    /// <summary>The class of each output, in order: probability <c>i</c> of a row is class <c>ClassNames[i]</c>.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Class probabilities, row by row, of <paramref name="count"/> images given as
    /// 3×32×32 bytes each (planar R, G, B, as <see cref="ImageFile.Decode"/> returns them).</summary>
    float[] Probabilities(ReadOnlyMemory<byte> images, int count);
}

/// <summary>Opens what a user names as a trained network (a run folder, a checkpoint folder or an ONNX file) as an <see cref="IImageClassifier"/>.</summary>
public static class ImageClassifier
{
    /// <summary>
    /// The classifier of what a user names as a checkpoint: a run folder (its best checkpoint, else its
    /// last) or a checkpoint folder, on TorchSharp on <paramref name="device"/>; or an exported ONNX model,
    /// on ONNX Runtime (CPU, <paramref name="threads"/> threads, 0 for its default).
    /// </summary>
    public static IImageClassifier Open(string checkpoint, TorchSharp.torch.Device device, bool tta = false, int threads = 0)
    {
        if (!Export.ModelFiles.IsOnnx(checkpoint)) return TorchClassifier.Load(checkpoint, device, tta);
        var onnx = new OnnxClassifier(checkpoint, threads);
        // The views are averaged by the same code as a TorchSharp network's.
        return tta ? new TorchClassifier(new ClassifierNetwork(onnx), ClassifierNetwork.InputNormalization, onnx.ClassNames, TorchSharp.torch.CPU, tta) : onnx;
    }
}

/// <summary>Top-k classes of image files or uploaded image bytes, with any <see cref="IImageClassifier"/>.</summary>
public sealed class Predictor(IImageClassifier classifier) : IDisposable
{
    /// <summary>The network of a checkpoint (or a run folder's best), on TorchSharp, or of an exported ONNX model.</summary>
    public Predictor(string checkpoint, TorchSharp.torch.Device device, bool tta = false)
        : this(ImageClassifier.Open(checkpoint, device, tta)) { }

    /// <summary>The classes the network tells apart, in output order.</summary>
    public IReadOnlyList<string> ClassNames => classifier.ClassNames;

    /// <summary>Top-<paramref name="k"/> classes for each file, in the order given. A file that
    /// cannot be read gets an error entry; the others are still classified.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> paths, int k = PredictionDefaults.Top) =>
        Classify(paths.Select(path => (path, (Func<byte[]>)(() => ImageFile.LoadAsCifar(path)))).ToList(), k);

    /// <summary>Top-<paramref name="k"/> classes for each encoded image (an upload), named by <c>Name</c> in errors.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<(string Name, byte[] Encoded)> images, int k = PredictionDefaults.Top) =>
        Classify(images.Select(image => (image.Name, (Func<byte[]>)(() => ImageFile.Decode(image.Encoded, image.Name)))).ToList(), k);

    IReadOnlyList<Prediction> Classify(IReadOnlyList<(string Name, Func<byte[]> Decode)> images, int k)
    {
        if (k < 1) throw new ConfigException($"top-k must be at least 1 (got {k})");
        k = Math.Min(k, ClassNames.Count);
        var results = new Prediction?[images.Count];
        var readable = new List<(int Index, byte[] Pixels)>();
        for (int i = 0; i < images.Count; i++)
        {
            try
            {
                readable.Add((i, images[i].Decode()));
            }
            catch (ImageException e)
            {
                results[i] = new Prediction(images[i].Name, [], e.Message);
            }
        }
        if (readable.Count > 0)
        {
            var probabilities = classifier.Probabilities(readable.SelectMany(r => r.Pixels).ToArray(), readable.Count);
            for (int r = 0; r < readable.Count; r++)
                results[readable[r].Index] = new Prediction(images[readable[r].Index].Name, Top(probabilities.AsSpan(r * ClassNames.Count, ClassNames.Count), ClassNames, k), null);
        }
        return results.Select(r => r!).ToList();
    }

    /// <summary>The <paramref name="k"/> most probable classes of one row of probabilities, most probable first.</summary>
    public static IReadOnlyList<ClassProbability> Top(ReadOnlySpan<float> row, IReadOnlyList<string> classNames, int k)
    {
        var values = row.ToArray();
        return Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k)
                         .Select(i => new ClassProbability(classNames[i], values[i])).ToList();
    }

    /// <summary>Disposes the classifier (and its network).</summary>
    public void Dispose() => classifier.Dispose();
}
