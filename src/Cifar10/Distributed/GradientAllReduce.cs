using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Distributed;

/// <summary>
/// Sums the gradients of a network's parameters over the ranks, in one fused buffer: every gradient is copied
/// into its slot of one float32 vector, which MPI sums in a single allreduce (split only past MPI's int count), and
/// the slots, views of the buffer made once, become the parameters' gradients (as DDP's gradient_as_bucket_view: no
/// copy back). Each rank weighted its loss by its share of the batch (<see cref="Training.TrainingStep.Run"/>), so
/// the sum is the whole batch's average. One call per step instead of one per tensor: a network's hundred small
/// tensors would each pay the network's latency.
/// </summary>
internal sealed class GradientAllReduce : IDisposable
{
    readonly ICommunicator world;
    readonly Parameter[] parameters;
    readonly Tensor buffer;
    /// <summary>Each parameter's slot of <see cref="buffer"/>, in the parameter's shape.</summary>
    readonly Tensor[] slots;

    public GradientAllReduce(ICommunicator world, nn.Module model)
    {
        this.world = world;
        // Every parameter has a slot, also those frozen now: a network may unfreeze one later (the fast network's whitening bias).
        parameters = model.parameters().ToArray();
        long total = parameters.Sum(p => p.numel());
        if (total * sizeof(float) > int.MaxValue) throw new DistributedException($"{total:N0} parameters are more than one allreduce buffer holds");
        using var scope = NewDisposeScope();
        buffer = zeros(total, ScalarType.Float32).DetachFromDisposeScope();
        slots = new Tensor[parameters.Length];
        long offset = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            slots[i] = buffer.narrow(0, offset, parameters[i].numel()).view(parameters[i].shape).DetachFromDisposeScope();
            offset += parameters[i].numel();
        }
    }

    /// <summary>The bytes each rank sends into the allreduce every step.</summary>
    public long Bytes => buffer.numel() * sizeof(float);

    /// <summary>
    /// Replaces every gradient by its sum over the ranks. With equal shares of two ranks each rank's weight was ½,
    /// exact in binary, and only the sum itself rounds.
    /// </summary>
    public void Sum()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (parameters[i].grad is { } grad) slots[i].copy_(grad);
            else slots[i].zero_(); // no gradient here: it adds nothing to the others'
        }
        world.Sum(MemoryMarshal.Cast<byte, float>(buffer.bytes));
        // The sums become the gradients; the next step's zero_grad lets go of them and the backward allocates afresh.
        for (int i = 0; i < parameters.Length; i++)
            if (parameters[i].grad is not null) parameters[i].grad = slots[i];
    }

    public void Dispose()
    {
        foreach (var slot in slots) slot.Dispose();
        buffer.Dispose();
    }
}
