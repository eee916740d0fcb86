using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Prediction;

/// <summary>A network on TorchSharp, in eval mode, with the normalisation (and precision) it trained with,
/// optionally averaged over test-time views.</summary>
public sealed class TorchClassifier : IImageClassifier
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly Device device;
    readonly Normalization normalization;
    readonly TestTimeAugmentation views;
    readonly Lock gate = new();

    /// <summary>Takes ownership of <paramref name="model"/> (in eval mode), which classifies images normalised with <paramref name="normalization"/>.</summary>
    public TorchClassifier(nn.Module<Tensor, Tensor> model, Normalization normalization, IReadOnlyList<string> classNames, Device device, bool tta = false)
    {
        this.model = model;
        this.device = device;
        this.normalization = normalization;
        views = tta ? TestTimeAugmentation.MirrorTranslate : TestTimeAugmentation.None;
        ClassNames = classNames;
    }

    /// <summary>The network of a checkpoint folder, or of a run folder's best (else last) checkpoint.</summary>
    public static TorchClassifier Load(string checkpoint, Device device, bool tta = false)
    {
        var (model, state) = Checkpoint.LoadModel(checkpoint, device);
        if (state.ClassNames.Length == 0)
        {
            model.Dispose();
            throw new CheckpointException($"checkpoint {checkpoint} does not record its class names");
        }
        return new TorchClassifier(model, state.Normalization, state.ClassNames, device, tta);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        // One forward pass at a time: a network's modules are not safe to call from two threads at once.
        lock (gate)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var batch = torch.tensor(images.ToArray(), dtype: torch.uint8)
                             .reshape(count, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize).to(device);
            return Evaluator.Probabilities(model, normalization.Normalize(batch), views).cpu().contiguous().data<float>().ToArray();
        }
    }

    /// <summary>Disposes the network.</summary>
    public void Dispose() => model.Dispose();
}
