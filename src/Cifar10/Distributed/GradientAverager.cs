using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Distributed;

/// <summary>
/// Averages the gradients of a network's parameters over the ranks, in one fused buffer: every
/// gradient is copied into its slot of one float32 vector, which MPI sums in a single allreduce (split only
/// past MPI's int count), and the summed slots become the parameters' gradients (views of the buffer, as DDP's
/// gradient_as_bucket_view: no copy back). One call per step instead of one per tensor: a network's hundred
/// small tensors would each pay the network's latency.
/// </summary>
internal sealed class GradientAverager : IDisposable
{
    readonly ICommunicator world;
    readonly Parameter[] parameters;
    readonly long[] offsets;
    readonly Tensor buffer;

    public GradientAverager(ICommunicator world, nn.Module model)
    {
        this.world = world;
        // Every parameter has a slot, also those frozen now: a network may unfreeze one later (the fast network's whitening bias).
        parameters = model.parameters().ToArray();
        offsets = new long[parameters.Length + 1];
        for (int i = 0; i < parameters.Length; i++) offsets[i + 1] = offsets[i] + parameters[i].numel();
        if (offsets[^1] * sizeof(float) > int.MaxValue) throw new DistributedException($"{offsets[^1]:N0} parameters are more than one allreduce buffer holds");
        buffer = zeros(offsets[^1], ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary>The bytes each rank sends into the allreduce every step.</summary>
    public long Bytes => offsets[^1] * sizeof(float);

    /// <summary>
    /// Replaces every gradient by its sum over the ranks. Each rank weighted its loss by its share of the batch (its
    /// images / the batch's, <see cref="Training.TrainingStep.Run"/>), so the sum is the gradient of the whole batch's
    /// mean loss. With equal shares of two ranks the weight is ½, exact in binary, and only the sum itself rounds.
    /// </summary>
    public void Sum()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var slot = Slot(i);
            if (parameters[i].grad is { } grad) slot.view(grad.shape).copy_(grad);
            else slot.zero_(); // no gradient here: it adds nothing to the others'
        }
        world.Sum(MemoryMarshal.Cast<byte, float>(buffer.bytes));
        // The sums become the gradients, with no copy back; the next step's zero_grad lets go of these views.
        for (int i = 0; i < parameters.Length; i++)
            if (parameters[i].grad is { } grad) parameters[i].grad = Slot(i).view(grad.shape).DetachFromDisposeScope();
    }

    Tensor Slot(int i) => buffer.narrow(0, offsets[i], offsets[i + 1] - offsets[i]);

    public void Dispose() => buffer.Dispose();
}
