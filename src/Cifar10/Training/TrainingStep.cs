using System.Diagnostics;
using Cifar10.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// One optimizer update on a normalised batch: forward, cross-entropy, backward, (the gradients averaged
/// over the ranks of a distributed run,) (gradient clipping,) step. The trainer, the learning-rate finder
/// and the throughput benchmark share it, so the benchmark measures exactly the work training does.
/// </summary>
public sealed class TrainingStep
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly ITrainingOptimizer optimizer;
    readonly double labelSmoothing;
    readonly double clipGradNorm;
    readonly Parameter[] clipped;
    readonly GradientAverager? gradients;

    /// <summary>The update of <paramref name="model"/> by <paramref name="optimizer"/> (<see cref="OptimizerFactory.Create(TrainConfig, nn.Module)"/>)
    /// in this process.</summary>
    /// <param name="model">The network, in training mode.</param>
    /// <param name="optimizer">The optimizer over the network's parameters.</param>
    /// <param name="labelSmoothing">Cross-entropy's label smoothing (<see cref="TrainConfig.LabelSmoothing"/>); 0 for none.</param>
    /// <param name="clipGradNorm">The largest global L2 norm of the gradients before the update; 0 for no clipping.</param>
    public TrainingStep(nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer, double labelSmoothing, double clipGradNorm = 0)
        : this(model, optimizer, labelSmoothing, clipGradNorm, gradients: null)
    {
    }

    /// <param name="gradients">With several ranks, how the gradients are averaged over them (<see cref="DataParallel.Gradients"/>).</param>
    internal TrainingStep(nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer, double labelSmoothing, double clipGradNorm,
                          GradientAverager? gradients)
    {
        this.model = model;
        this.optimizer = optimizer;
        this.labelSmoothing = labelSmoothing;
        this.clipGradNorm = clipGradNorm;
        this.gradients = gradients;
        clipped = clipGradNorm > 0 ? model.parameters().Where(p => p.requires_grad).ToArray() : [];
    }

    /// <summary>Returns the batch's mean loss and its logits (both in the caller's dispose scope). With
    /// <paramref name="times"/>, each phase's time is added to it (on the CPU an op has finished when it returns).</summary>
    /// <param name="batchShare">In a distributed run, this rank's images as a share of the whole batch's.</param>
    public (Tensor Loss, Tensor Logits) Run(Tensor normalizedImages, Tensor labels, double learningRate, StepTimes? times = null,
                                            double batchShare = 1)
    {
        optimizer.SetLearningRate(learningRate);
        times?.Forward.Start();
        Tensor logits, loss;
        using (Precision.ForwardScope(model)) // the backward runs outside autocast, as PyTorch's recipe has it
        {
            logits = model.forward(normalizedImages);
            loss = nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing);
        }
        times?.Forward.Stop();
        times?.Backward.Start();
        model.zero_grad(); // to None, so frozen parameters (no gradient) are skipped by the optimizer
        if (gradients is null) loss.backward();
        else
        {
            // Weighted by this rank's share of the batch, the ranks' gradients sum to the whole batch's (GradientAverager.Sum).
            using var share = loss * batchShare;
            share.backward();
        }
        times?.Backward.Stop();
        times?.Communicate.Start();
        gradients?.Sum();
        times?.Communicate.Stop();
        times?.Update.Start();
        if (clipGradNorm > 0)
            nn.utils.clip_grad_norm_(clipped, clipGradNorm); // parameters without a gradient are skipped
        optimizer.Step();
        times?.Update.Stop();
        return (loss, logits);
    }
}

/// <summary>Where <see cref="TrainingStep.Run"/>'s time went, summed over the steps it was given to: forward and loss,
/// backward, averaging the gradients over the ranks (distributed runs), and the update (gradient clipping and the optimizer).</summary>
public sealed class StepTimes
{
    /// <summary>The forward pass and the loss.</summary>
    public Stopwatch Forward { get; } = new();
    /// <summary>The backward pass.</summary>
    public Stopwatch Backward { get; } = new();
    /// <summary>Averaging the gradients over the ranks (zero in one process).</summary>
    public Stopwatch Communicate { get; } = new();
    /// <summary>Gradient clipping and the optimizer's update.</summary>
    public Stopwatch Update { get; } = new();
}
