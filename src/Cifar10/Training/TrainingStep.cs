using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// One optimizer update on a normalised batch: forward, cross-entropy, backward, step.
/// The trainer and the throughput benchmark share it, so the benchmark measures exactly
/// the work training does.
/// </summary>
public sealed class TrainingStep(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, double labelSmoothing)
{
    /// <summary>Returns the batch's mean loss and its logits (both in the caller's dispose scope).</summary>
    public (Tensor Loss, Tensor Logits) Run(Tensor normalizedImages, Tensor labels, double learningRate)
    {
        OptimizerFactory.SetLearningRate(optimizer, learningRate);
        var logits = model.forward(normalizedImages);
        var loss = nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing);
        model.zero_grad(); // to None, so frozen parameters (no gradient) are skipped by the optimizer
        loss.backward();
        optimizer.step();
        return (loss, logits);
    }
}
