using System.Globalization;

namespace Cifar10.Training;

/// <summary>
/// The settings a sweep may vary, by their command-line names (`--vary lr=0.1,0.01`), each
/// applied to a <see cref="TrainConfig"/>. The names are the `train` options without dashes.
/// </summary>
public static class ConfigSettings
{
    static readonly Dictionary<string, Func<TrainConfig, string, TrainConfig>> Setters = new()
    {
        ["model"] = (c, v) => c with { Model = v.ToLowerInvariant() },
        ["epochs"] = (c, v) => c with { Epochs = Int(v) },
        ["batch-size"] = (c, v) => c with { BatchSize = Int(v) },
        ["lr"] = (c, v) => c with { LearningRate = Double(v) },
        ["optimizer"] = (c, v) => c with { Optimizer = v.ToLowerInvariant() },
        ["momentum"] = (c, v) => c with { Momentum = Double(v) },
        ["nesterov"] = (c, v) => c with { Nesterov = Bool(v) },
        ["weight-decay"] = (c, v) => c with { WeightDecay = Double(v) },
        ["label-smoothing"] = (c, v) => c with { LabelSmoothing = Double(v) },
        ["schedule"] = (c, v) => c with { Schedule = v.ToLowerInvariant() },
        ["warmup"] = (c, v) => c with { WarmupEpochs = Double(v) },
        ["gamma"] = (c, v) => c with { Gamma = Double(v) },
        ["step-size"] = (c, v) => c with { StepEpochs = Int(v) },
        ["dropout"] = (c, v) => c with { Dropout = Double(v) },
        ["depth"] = (c, v) => c with { Depth = Int(v) },
        ["val-size"] = (c, v) => c with { ValidationSize = Int(v) },
        ["cutout"] = (c, v) => c with { Cutout = Int(v) },
        ["crop"] = (c, v) => c with { RandomCrop = Bool(v) },
        ["flip"] = (c, v) => c with { HorizontalFlip = Bool(v) },
        ["subset"] = (c, v) => c with { TrainSubset = Int(v) },
        ["seed"] = (c, v) => c with { Seed = Int(v) },
        ["norm-bias-lr-scale"] = (c, v) => c with { NormBiasLrScale = Double(v) },
        ["lookahead"] = (c, v) => c with { Lookahead = Bool(v) },
        ["crop-padding"] = (c, v) => c with { CropPadding = Int(v) },
        ["pad-mode"] = (c, v) => c with { CropPadMode = v.ToLowerInvariant() },
        ["alternating-flip"] = (c, v) => c with { AlternatingFlip = Bool(v) },
        ["precision"] = (c, v) => c with { Precision = v.ToLowerInvariant() },
        ["test-tta"] = (c, v) => c with { TestTta = Bool(v) },
    };

    public static IEnumerable<string> Names => Setters.Keys;

    /// <summary>Returns <paramref name="config"/> with <paramref name="name"/> set to <paramref name="value"/>.</summary>
    public static TrainConfig Apply(TrainConfig config, string name, string value)
    {
        if (!Setters.TryGetValue(name, out var set))
            throw new ConfigException($"cannot vary '{name}'; choose one of: {string.Join(", ", Setters.Keys)}");
        return set(config, value.Trim());
    }

    static int Int(string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
        ? v : throw new ConfigException($"'{value}' is not a whole number");

    static double Double(string value) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
        ? v : throw new ConfigException($"'{value}' is not a number");

    static bool Bool(string value) => value.ToLowerInvariant() switch
    {
        "true" or "on" or "yes" or "1" => true,
        "false" or "off" or "no" or "0" => false,
        _ => throw new ConfigException($"'{value}' is not true or false"),
    };
}
