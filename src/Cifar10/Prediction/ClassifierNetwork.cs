using Cifar10.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Prediction;

/// <summary>
/// Any <see cref="IImageClassifier"/> (an exported ONNX model) as a TorchSharp network, so that what
/// evaluates networks and averages test-time views works for it unchanged. It takes the raw pixel
/// values 0–255 as floats (<see cref="InputNormalization"/> gives them; the views of test-time
/// augmentation move pixels without changing them) and returns log-probabilities, whose softmax is the
/// classifier's probabilities.
/// </summary>
public sealed class ClassifierNetwork : nn.Module<Tensor, Tensor>
{
    readonly IImageClassifier classifier;

    /// <summary>Takes ownership of <paramref name="classifier"/>.</summary>
    public ClassifierNetwork(IImageClassifier classifier) : base(nameof(ClassifierNetwork)) => this.classifier = classifier;

    /// <summary>The "normalisation" that leaves pixel values as they are: mean 0, std 1/255.</summary>
    public static Normalization InputNormalization { get; } = new([0f, 0f, 0f], [1f / 255, 1f / 255, 1f / 255]);

    /// <summary>The classifier's log-probabilities of float pixel values 0–255 [N,3,32,32] (rounded to bytes first).</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        int count = checked((int)input.shape[0]);
        var pixels = input.round().clamp(0, 255).to_type(ScalarType.Byte).cpu().contiguous().data<byte>().ToArray();
        var probabilities = tensor(classifier.Probabilities(pixels, count)).view(count, -1);
        return probabilities.clamp_min(1e-30f).log().to(input.device).MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the classifier with the module.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) classifier.Dispose();
        base.Dispose(disposing);
    }
}
