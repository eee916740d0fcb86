using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cifar10.Training;

/// <summary>
/// Every setting of a training run, in one place (as airbench keeps its hyperparameters).
/// Written to config.json beside the run's results, so any figure can be traced and reproduced.
/// </summary>
public sealed record TrainConfig
{
    public string Model { get; init; } = "resnet18";
    /// <summary>Dropout probability for networks that have dropout; null keeps the network's own default.</summary>
    public double? Dropout { get; init; }
    /// <summary>Number of conv blocks, for networks with a depth (tutorial: 2..4).</summary>
    public int Depth { get; init; } = 3;

    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.1;
    public string Optimizer { get; init; } = "sgd";
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;
    public double LabelSmoothing { get; init; }

    public string Schedule { get; init; } = "cosine";
    /// <summary>step: decay every StepEpochs epochs by Gamma.</summary>
    public int StepEpochs { get; init; } = 30;
    /// <summary>multistep: decay by Gamma at each of these epochs.</summary>
    public int[] Milestones { get; init; } = [];
    public double Gamma { get; init; } = 0.1;
    /// <summary>Linear warm-up length in epochs (fractions allowed), applied on top of any schedule.</summary>
    public double WarmupEpochs { get; init; }

    public int ValidationSize { get; init; } = 5000;
    public bool RandomCrop { get; init; } = true;
    public bool HorizontalFlip { get; init; } = true;
    public int Cutout { get; init; }
    /// <summary>Use only the first N training images (after the validation split); 0 = all. For quick experiments.</summary>
    public int TrainSubset { get; init; }

    public long Seed { get; init; }
    /// <summary>Intra-op threads for libtorch; 0 leaves libtorch's default (one per core).</summary>
    public int Threads { get; init; }
    public string Device { get; init; } = "cpu";
    public int EvalBatchSize { get; init; } = 1000;

    public static readonly string[] Optimizers = ["sgd", "adam", "adamw"];
    public static readonly string[] Schedules = ["constant", "step", "multistep", "cosine", "onecycle"];

    /// <summary>Throws <see cref="ConfigException"/> naming the first invalid setting.</summary>
    public TrainConfig Validated()
    {
        Require(Epochs > 0, $"epochs must be positive (got {Epochs})");
        Require(BatchSize > 0, $"batch size must be positive (got {BatchSize})");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be positive (got {LearningRate})");
        Require(Optimizers.Contains(Optimizer), $"unknown optimizer '{Optimizer}'; choose one of: {string.Join(", ", Optimizers)}");
        Require(Schedules.Contains(Schedule), $"unknown schedule '{Schedule}'; choose one of: {string.Join(", ", Schedules)}");
        Require(Momentum >= 0 && Momentum < 1, $"momentum must be in [0, 1) (got {Momentum})");
        Require(!Nesterov || (Optimizer == "sgd" && Momentum > 0), "nesterov needs the sgd optimizer with momentum > 0");
        Require(WeightDecay >= 0, $"weight decay must not be negative (got {WeightDecay})");
        Require(LabelSmoothing >= 0 && LabelSmoothing < 1, $"label smoothing must be in [0, 1) (got {LabelSmoothing})");
        Require(StepEpochs > 0, $"step size must be positive (got {StepEpochs})");
        Require(Gamma > 0, $"gamma must be positive (got {Gamma})");
        Require(Milestones.All(m => m > 0), "milestones must be positive epoch numbers");
        Require(WarmupEpochs >= 0, $"warm-up must not be negative (got {WarmupEpochs})");
        Require(ValidationSize >= 0, $"validation size must not be negative (got {ValidationSize})");
        Require(Cutout >= 0 && Cutout <= 32, $"cutout must be in 0..32 (got {Cutout})");
        Require(TrainSubset >= 0, $"train subset must not be negative (got {TrainSubset})");
        Require(Threads >= 0, $"threads must not be negative (got {Threads})");
        Require(EvalBatchSize > 0, $"eval batch size must be positive (got {EvalBatchSize})");
        Require(Dropout is null || (Dropout >= 0 && Dropout < 1), $"dropout must be in [0, 1) (got {Dropout})");
        return this;
    }

    static void Require(bool condition, string message)
    {
        if (!condition) throw new ConfigException(message);
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>An invalid setting: a usage error (exit code 2).</summary>
public sealed class ConfigException(string message) : Exception(message);
