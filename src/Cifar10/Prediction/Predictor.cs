using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Prediction;

public sealed record ClassProbability(string ClassName, double Probability);

/// <summary>The answer for one file: its top classes, or why it could not be read.</summary>
public sealed record Prediction(string Path, IReadOnlyList<ClassProbability> Top, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>A trained network ready to classify image files.</summary>
public sealed class Predictor : IDisposable
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly Device device;
    public IReadOnlyList<string> ClassNames { get; }

    public Predictor(string checkpoint, Device device)
    {
        this.device = device;
        var (loaded, state) = Checkpoint.LoadModel(checkpoint, device);
        model = loaded;
        ClassNames = state.ClassNames.Length > 0
            ? state.ClassNames
            : throw new CheckpointException($"checkpoint {checkpoint} does not record its class names");
    }

    /// <summary>Top-<paramref name="k"/> classes for each file, in the order given. A file that
    /// cannot be read gets an error entry; the others are still classified.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> paths, int k = 3, bool tta = false)
    {
        if (k < 1) throw new ConfigException($"top-k must be at least 1 (got {k})");
        k = Math.Min(k, ClassNames.Count);
        var results = new Prediction?[paths.Count];
        var readable = new List<(int Index, byte[] Pixels)>();
        for (int i = 0; i < paths.Count; i++)
        {
            try
            {
                readable.Add((i, ImageFile.LoadAsCifar(paths[i])));
            }
            catch (ImageException e)
            {
                results[i] = new Prediction(paths[i], [], e.Message);
            }
        }

        if (readable.Count > 0)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var bytes = readable.SelectMany(r => r.Pixels).ToArray();
            var batch = torch.tensor(bytes, dtype: torch.uint8).reshape(readable.Count, 3, ImageFile.Size, ImageFile.Size).to(device);
            var probabilities = Evaluator.Probabilities(model, Normalization.Normalize(batch), tta ? TestTimeAugmentation.MirrorTranslate : TestTimeAugmentation.None).cpu();
            var (values, indices) = probabilities.topk(k, dim: 1);
            var top = values.data<float>().ToArray();
            var classes = indices.data<long>().ToArray();
            for (int r = 0; r < readable.Count; r++)
            {
                var ranked = Enumerable.Range(0, k)
                    .Select(j => new ClassProbability(ClassNames[(int)classes[r * k + j]], top[r * k + j]))
                    .ToList();
                results[readable[r].Index] = new Prediction(paths[readable[r].Index], ranked, null);
            }
        }
        return results.Select(r => r!).ToList();
    }

    public void Dispose() => model.Dispose();
}
