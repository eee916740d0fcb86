using TorchSharp.Modules;

namespace Cifar10.Training;

/// <summary>
/// What the trainer needs of an optimizer: one update from the current gradients, the scheduled
/// learning rate of the step (every group at its own fixed multiple of it), and state that a
/// checkpoint saves and a resume restores exactly.
/// </summary>
public interface ITrainingOptimizer : IDisposable
{
    /// <summary>Updates the parameters from their current gradients.</summary>
    void Step();
    /// <summary>Sets the scheduled learning rate of the next step; each parameter group applies its own fixed multiple of it.</summary>
    void SetLearningRate(double rate);
    /// <summary>Writes the optimizer's state (momentum buffers, moments) to <paramref name="path"/>.</summary>
    void Save(string path);
    /// <summary>Restores the state <see cref="Save"/> wrote, so that a resumed run continues exactly.</summary>
    void Load(string path);
}

/// <summary>A TorchSharp optimizer (SGD, Adam, AdamW) over parameter groups whose learning rates are fixed multiples of the scheduled one.</summary>
public sealed class TorchOptimizer(OptimizerHelper optimizer) : ITrainingOptimizer
{
    /// <summary>The TorchSharp optimizer this wraps.</summary>
    public OptimizerHelper Inner => optimizer;

    /// <inheritdoc/>
    public void Step() => optimizer.step();

    /// <inheritdoc/>
    public void SetLearningRate(double rate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = rate * (group is ScaledGroup scaled ? scaled.LearningRateScale : 1);
    }

    /// <inheritdoc/>
    public void Save(string path) => optimizer.save_state_dict(path);
    /// <inheritdoc/>
    public void Load(string path) => optimizer.load_state_dict(path);
    /// <summary>Disposes the TorchSharp optimizer.</summary>
    public void Dispose() => optimizer.Dispose();

    internal void Save(BinaryWriter writer) => optimizer.save_state_dict(writer);
    internal void Load(BinaryReader reader) => optimizer.load_state_dict(reader);
}

/// <summary>An SGD group whose learning rate is a fixed multiple of the scheduled rate, and whose weight
/// decay is divided by that multiple, so that its decay step lr·wd is every other group's (airbench's bias_scaler).</summary>
internal sealed class ScaledGroup(IEnumerable<Parameter> parameters, TrainConfig config, double scale)
    : SGD.ParamGroup(parameters, config.LearningRate * scale, config.Momentum, 0, config.WeightDecay / scale, config.Nesterov)
{
    public double LearningRateScale { get; } = scale;
}
