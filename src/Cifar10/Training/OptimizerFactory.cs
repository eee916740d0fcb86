using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>Builds the optimizer a config names. The schedule sets the learning rate every step.</summary>
public static class OptimizerFactory
{
    /// <summary>The optimizer over the model's trainable parameters (frozen ones are left out).</summary>
    public static OptimizerHelper Create(TrainConfig config, nn.Module model)
    {
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        return config.Optimizer switch
        {
            OptimizerKind.Sgd => Sgd(config, model, trainable),
            OptimizerKind.Adam => optim.Adam(trainable, config.LearningRate, weight_decay: config.WeightDecay),
            OptimizerKind.AdamW => optim.AdamW(trainable, config.LearningRate, weight_decay: config.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(config), config.Optimizer, "unknown optimizer"),
        };
    }

    /// <summary>Sets every group's learning rate to <paramref name="rate"/> times the group's scale.</summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = rate * (group is ScaledGroup scaled ? scaled.LearningRateScale : 1);
    }

    static SGD Sgd(TrainConfig config, nn.Module model, List<Parameter> trainable)
    {
        if (config.NormBiasLrScale == 1)
            return optim.SGD(trainable, config.LearningRate, momentum: config.Momentum,
                             weight_decay: config.WeightDecay, nesterov: config.Nesterov);

        // airbench's bias_scaler: batch-norm biases take lr·s with weight decay wd/s, so that their
        // decay step lr·wd is the same as every other weight's.
        var normBiases = NormBiases(model).Where(p => p.requires_grad).ToHashSet(ReferenceEqualityComparer.Instance);
        var others = trainable.Where(p => !normBiases.Contains(p)).ToList();
        double scale = config.NormBiasLrScale;
        var groups = new List<SGD.ParamGroup>
        {
            new ScaledGroup(normBiases.Cast<Parameter>(), config, scale),
            new ScaledGroup(others, config, 1),
        };
        return optim.SGD(groups, config.LearningRate, momentum: config.Momentum,
                         weight_decay: config.WeightDecay, nesterov: config.Nesterov);
    }

    static IEnumerable<Parameter> NormBiases(nn.Module model) =>
        model.modules()
             .Where(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d)
             .SelectMany(m => m.named_parameters(recurse: false))
             .Where(named => named.name == "bias")
             .Select(named => named.parameter);

    /// <summary>An SGD group whose learning rate is a fixed multiple of the scheduled rate.</summary>
    sealed class ScaledGroup(IEnumerable<Parameter> parameters, TrainConfig config, double scale)
        : SGD.ParamGroup(parameters, config.LearningRate * scale, config.Momentum, 0, config.WeightDecay / scale, config.Nesterov)
    {
        public double LearningRateScale { get; } = scale;
    }
}
