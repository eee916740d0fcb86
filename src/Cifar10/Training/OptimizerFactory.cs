using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>Builds the optimizer a config names over a network's trainable parameters (frozen ones are left out).
/// The schedule sets the learning rate every step.</summary>
public static class OptimizerFactory
{
    /// <summary>The optimizer of <paramref name="config"/> (SGD, Adam, AdamW or Muon with its fallback, with their learning-rate scales and weight decay) over <paramref name="model"/>'s trainable parameters.</summary>
    public static ITrainingOptimizer Create(TrainConfig config, nn.Module model)
    {
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        if (config.Optimizer != OptimizerKind.Muon)
            return Create(config, model, trainable);
        var orthogonalized = Muon.ParametersOf(model).ToHashSet(ReferenceEqualityComparer.Instance);
        var rest = trainable.Where(p => !orthogonalized.Contains(p)).ToList();
        var fallback = Create(config with { Optimizer = config.MuonFallback }, model, rest);
        return new MuonWithFallback(new Muon(orthogonalized.Cast<Parameter>().ToList(), config.MuonMomentum, config.MuonNewtonSchulzSteps),
                                    config.MuonLearningRate / config.LearningRate, fallback);
    }

    static TorchOptimizer Create(TrainConfig config, nn.Module model, List<Parameter> parameters) => new(config.Optimizer switch
    {
        OptimizerKind.Sgd => Sgd(config, model, parameters),
        OptimizerKind.Adam => optim.Adam(parameters, config.LearningRate, weight_decay: config.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, config.LearningRate, weight_decay: config.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Optimizer, "not a fallback optimizer"),
    });

    static SGD Sgd(TrainConfig config, nn.Module model, List<Parameter> parameters)
    {
        if (config.NormBiasLrScale == 1 && config.HeadLrScale == 1)
            return optim.SGD(parameters, config.LearningRate, momentum: config.Momentum,
                             weight_decay: config.WeightDecay, nesterov: config.Nesterov);

        // airbench's bias_scaler: batch-norm biases take lr·s with weight decay wd/s, so that their
        // decay step lr·wd is the same as every other weight's; the output layer likewise.
        var chosen = parameters.ToHashSet(ReferenceEqualityComparer.Instance);
        var normBiases = NormBiases(model).Where(chosen.Contains).ToHashSet(ReferenceEqualityComparer.Instance);
        var head = config.HeadLrScale == 1 ? [] : Muon.Head(model)?.parameters().Where(chosen.Contains).ToHashSet(ReferenceEqualityComparer.Instance) ?? [];
        var others = parameters.Where(p => !normBiases.Contains(p) && !head.Contains(p)).ToList();
        var groups = new List<SGD.ParamGroup> { new ScaledGroup(normBiases.Cast<Parameter>(), config, config.NormBiasLrScale) };
        if (head.Count > 0) groups.Add(new ScaledGroup(head.Cast<Parameter>(), config, config.HeadLrScale));
        groups.Add(new ScaledGroup(others, config, 1));
        return optim.SGD(groups, config.LearningRate, momentum: config.Momentum,
                         weight_decay: config.WeightDecay, nesterov: config.Nesterov);
    }

    static IEnumerable<Parameter> NormBiases(nn.Module model) =>
        model.modules()
             .Where(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d)
             .SelectMany(m => m.named_parameters(recurse: false))
             .Where(named => named.name == "bias")
             .Select(named => named.parameter);
}
