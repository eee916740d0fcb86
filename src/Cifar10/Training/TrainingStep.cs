using System.Diagnostics;
using Cifar10.Distributed;
using Cifar10.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// One optimizer update on a normalised batch: forward, cross-entropy, backward (part by part where the batch is larger
/// than the micro-batch), (the gradients averaged over the ranks of a distributed run,) (gradient clipping,) step. The
/// trainer, the learning-rate finder and the throughput benchmark share it, so the benchmark measures exactly the work
/// training does.
/// </summary>
public sealed class TrainingStep
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly ITrainingOptimizer optimizer;
    readonly double labelSmoothing;
    readonly double clipGradNorm;
    readonly int microBatch;
    readonly Parameter[] clipped;
    readonly BatchNorm[] norms;
    readonly GradientAllReduce? gradients;

    /// <summary>The update of <paramref name="model"/> by <paramref name="optimizer"/> (<see cref="OptimizerFactory.Create(TrainConfig, nn.Module)"/>)
    /// in this process.</summary>
    /// <param name="model">The network, in training mode.</param>
    /// <param name="optimizer">The optimizer over the network's parameters.</param>
    /// <param name="labelSmoothing">Cross-entropy's label smoothing (<see cref="TrainConfig.LabelSmoothing"/>); 0 for none.</param>
    /// <param name="clipGradNorm">The largest global L2 norm of the gradients before the update; 0 for no clipping.</param>
    /// <param name="microBatch">The most images per forward and backward pass (<see cref="TrainConfig.MicroBatch"/>); 0 for the whole batch.</param>
    public TrainingStep(nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer, double labelSmoothing, double clipGradNorm = 0,
                        int microBatch = 0)
        : this(model, optimizer, labelSmoothing, clipGradNorm, microBatch, gradients: null)
    {
    }

    /// <param name="gradients">With several ranks, how the gradients are summed over them (<see cref="DataParallel.Gradients"/>).</param>
    internal TrainingStep(nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer, double labelSmoothing, double clipGradNorm,
                          int microBatch, GradientAllReduce? gradients)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(microBatch);
        this.model = model;
        this.optimizer = optimizer;
        this.labelSmoothing = labelSmoothing;
        this.clipGradNorm = clipGradNorm;
        this.microBatch = microBatch;
        this.gradients = gradients;
        clipped = clipGradNorm > 0 ? model.parameters().Where(p => p.requires_grad).ToArray() : [];
        norms = microBatch > 0 ? model.modules().OfType<BatchNorm>().Where(n => n.momentum is not null).ToArray() : [];
    }

    /// <summary>Returns the batch's mean loss and its logits (both in the caller's dispose scope). With
    /// <paramref name="times"/>, each phase's time is added to it (on the CPU an op has finished when it returns).</summary>
    /// <param name="batchShare">In a distributed run, this rank's images as a share of the whole batch's.</param>
    public (Tensor Loss, Tensor Logits) Run(Tensor normalizedImages, Tensor labels, double learningRate, StepTimes? times = null,
                                            double batchShare = 1)
    {
        optimizer.SetLearningRate(learningRate);
        model.zero_grad(); // to None, so frozen parameters (no gradient) are skipped by the optimizer
        long count = normalizedImages.shape[0];
        var parts = Parts(count, microBatch);
        var losses = new Tensor[parts.Count];
        var logits = new Tensor[parts.Count];
        using var _ = RunningStatisticsPerPart(parts.Count);
        for (int i = 0; i < parts.Count; i++)
        {
            var (start, length) = parts[i];
            using var partImages = parts.Count == 1 ? null : normalizedImages.narrow(0, start, length);
            using var partLabels = parts.Count == 1 ? null : labels.narrow(0, start, length);
            times?.Forward.Start();
            using (Precision.ForwardScope(model)) // the backward runs outside autocast, as PyTorch's recipe has it
            {
                logits[i] = model.forward(partImages ?? normalizedImages);
                losses[i] = nn.functional.cross_entropy(logits[i], partLabels ?? labels, label_smoothing: labelSmoothing);
            }
            times?.Forward.Stop();
            times?.Backward.Start();
            // Each part's mean loss weighted by its share of the whole batch (over every rank: GradientAllReduce.Sum), so the
            // summed gradients are the whole batch's; one part on one rank is the plain backward.
            double weight = batchShare * length / count;
            // The handles TorchSharp makes in the backward (the gradients it passes to and takes from custom
            // functions such as LeanMaxPool's) belong to the current dispose scope: this one frees them with the
            // backward, where the step's scope would keep those activation-sized gradients until the update is done.
            using (NewDisposeScope())
            {
                if (weight == 1) losses[i].backward();
                else
                {
                    using var weighted = losses[i] * weight;
                    weighted.backward();
                }
            }
            times?.Backward.Stop();
            if (parts.Count > 1)
            {
                // The part's graph goes now rather than with the caller's step scope, and with it what its nodes still
                // hold (TorchSharp keeps an empty tensor of each custom function's output size until its node goes).
                using Tensor graphLoss = losses[i], graphLogits = logits[i];
                losses[i] = graphLoss.detach();
                logits[i] = graphLogits.detach();
            }
        }
        times?.Communicate.Start();
        gradients?.Sum();
        times?.Communicate.Stop();
        times?.Update.Start();
        if (clipGradNorm > 0)
            nn.utils.clip_grad_norm_(clipped, clipGradNorm); // parameters without a gradient are skipped
        optimizer.Step();
        times?.Update.Stop();
        ProcessMemory.CollectStepGarbage(); // the Scalars TorchSharp left to finalizers, before the next step allocates
        if (parts.Count == 1) return (losses[0], logits[0]);
        using var stacked = stack(losses);
        using var partWeights = tensor(parts.Select(p => (float)p.Length / count).ToArray(), device: stacked.device);
        return ((stacked * partWeights).sum(), cat(logits));
    }

    /// <summary>
    /// Batch norm's running statistics take one update per part: with <paramref name="parts"/> parts each layer's momentum
    /// m becomes 1 − (1 − m)^(1/parts) for the step, so that after the step the old statistics keep the weight (1 − m)
    /// they keep after one whole batch and the running averages span as many images as without micro-batches.
    /// </summary>
    IDisposable? RunningStatisticsPerPart(int parts)
    {
        if (parts == 1 || norms.Length == 0) return null;
        var momenta = norms.Select(n => n.momentum!.Value).ToArray();
        foreach (var (norm, momentum) in norms.Zip(momenta))
            norm.momentum = 1 - Math.Pow(1 - momentum, 1.0 / parts);
        return new OnDispose(() =>
        {
            foreach (var (norm, momentum) in norms.Zip(momenta)) norm.momentum = momentum;
        });
    }

    /// <summary>
    /// The (start, length) parts <paramref name="count"/> images are split into: as few equal parts as keep each within
    /// <paramref name="microBatch"/> images (lengths differ by one at most), never a part of one image, which batch norm
    /// cannot train on; one part when <paramref name="microBatch"/> is 0 or the batch fits.
    /// </summary>
    public static IReadOnlyList<(long Start, long Length)> Parts(long count, int microBatch)
    {
        long parts = microBatch == 0 ? 1 : Math.Max(1, Math.Min((count + microBatch - 1) / microBatch, count / 2));
        var ranges = new (long, long)[parts];
        long start = 0;
        for (long p = 0; p < parts; p++)
        {
            long length = count / parts + (p < count % parts ? 1 : 0);
            ranges[p] = (start, length);
            start += length;
        }
        return ranges;
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
