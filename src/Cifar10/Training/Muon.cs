using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// Muon (Keller Jordan, 2024; airbench94_muon's variant): for each weight matrix (a conv's filters
/// flattened to out × in·k·k), Nesterov momentum on the gradient, then the update replaced by its
/// orthogonalisation (a quintic Newton–Schulz iteration, coefficients 3.4445, −4.7750, 2.0315, that
/// pushes every singular value towards 1), applied to the weight renormalised to Frobenius norm
/// √(rows). The update's size is thus the learning rate, whatever the gradient's scale.
/// </summary>
internal sealed class Muon : IDisposable
{
    const double A = 3.4445, B = -4.7750, C = 2.0315;

    readonly List<Parameter> parameters;
    readonly Tensor?[] buffers;
    readonly double momentum;
    readonly int steps;

    public Muon(IReadOnlyList<Parameter> parameters, double momentum, int newtonSchulzSteps)
    {
        this.parameters = [.. parameters];
        buffers = new Tensor?[parameters.Count];
        this.momentum = momentum;
        steps = newtonSchulzSteps;
    }

    public double LearningRate { get; set; }

    /// <summary>
    /// The parameters Muon is for, as its authors define them: the trainable weights of two or more
    /// dimensions (conv filters, linear weights) except the output layer's; vectors (biases, norm
    /// parameters) and the classifier head go to the fallback optimizer.
    /// </summary>
    public static IEnumerable<Parameter> ParametersOf(nn.Module model)
    {
        var head = Head(model)?.parameters().ToHashSet(ReferenceEqualityComparer.Instance) ?? [];
        return model.parameters().Where(p => p.requires_grad && p.dim() >= 2 && !head.Contains(p));
    }

    /// <summary>The output layer: the network's last linear layer.</summary>
    public static nn.Module? Head(nn.Module model) => model.modules().LastOrDefault(m => m is Linear);

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is not { } grad) continue;
            var buffer = buffers[i] ??= zeros_like(grad).DetachFromDisposeScope();
            buffer.mul_(momentum).add_(grad);
            var direction = grad.add(buffer, alpha: momentum); // Nesterov
            long rows = p.shape[0];
            p.mul_(Math.Sqrt(rows) / p.norm().item<float>());
            var update = Orthogonalize(direction.reshape(rows, -1), steps).view(p.shape);
            p.add_(update, alpha: -LearningRate);
        }
    }

    /// <summary>The quintic Newton–Schulz iteration on a matrix scaled to spectral norm ≤ 1: about U·Vᵀ of its SVD.</summary>
    public static Tensor Orthogonalize(Tensor matrix, int steps = 5)
    {
        using var scope = NewDisposeScope();
        var x = matrix.to(ScalarType.Float32) / (matrix.norm() + 1e-7);
        bool tall = x.shape[0] > x.shape[1];
        if (tall) x = x.T;
        for (int i = 0; i < steps; i++)
        {
            var a = x.matmul(x.T);
            var b = a * B + a.matmul(a) * C;
            x = x * A + b.matmul(x);
        }
        return (tall ? x.T : x).to(matrix.dtype).MoveToOuterDisposeScope();
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(buffers.Length);
        foreach (var buffer in buffers)
        {
            writer.Write(buffer is not null);
            buffer?.Save(writer);
        }
    }

    public void Load(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count != buffers.Length) throw new CheckpointException($"the Muon state holds {count} buffers, the network has {buffers.Length} matrices");
        for (int i = 0; i < count; i++)
        {
            if (!reader.ReadBoolean()) continue;
            var buffer = zeros_like(parameters[i]).DetachFromDisposeScope();
            buffer.Load(reader);
            buffers[i]?.Dispose();
            buffers[i] = buffer;
        }
    }

    public void Dispose()
    {
        foreach (var buffer in buffers) buffer?.Dispose();
    }
}

/// <summary>Muon for the network's weight matrices, a named fallback optimizer (SGD, Adam, AdamW) for the rest;
/// Muon's learning rate follows the schedule at a fixed ratio to the fallback's.</summary>
internal sealed class MuonWithFallback(Muon muon, double ratio, TorchOptimizer fallback) : ITrainingOptimizer
{
    public void Step()
    {
        fallback.Step();
        muon.Step();
    }

    public void SetLearningRate(double rate)
    {
        fallback.SetLearningRate(rate);
        muon.LearningRate = rate * ratio;
    }

    public void Save(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        fallback.Save(writer);
        muon.Save(writer);
    }

    public void Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        fallback.Load(reader);
        muon.Load(reader);
    }

    public void Dispose()
    {
        muon.Dispose();
        fallback.Dispose();
    }
}
