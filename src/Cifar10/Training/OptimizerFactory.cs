using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>Builds the optimizer a config names. The schedule sets the learning rate every step.</summary>
public static class OptimizerFactory
{
    public static OptimizerHelper Create(TrainConfig config, IEnumerable<Parameter> parameters) => config.Optimizer switch
    {
        "sgd" => optim.SGD(parameters, config.LearningRate, momentum: config.Momentum,
                           weight_decay: config.WeightDecay, nesterov: config.Nesterov),
        "adam" => optim.Adam(parameters, config.LearningRate, weight_decay: config.WeightDecay),
        "adamw" => optim.AdamW(parameters, config.LearningRate, weight_decay: config.WeightDecay),
        _ => throw new ConfigException($"unknown optimizer '{config.Optimizer}'"),
    };

    public static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = rate;
    }
}
