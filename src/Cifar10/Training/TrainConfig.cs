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

    /// <summary>SGD only: learning-rate multiplier for batch-norm biases; their weight-decay step stays
    /// that of the other weights (airbench's bias_scaler). 1 = no special treatment.</summary>
    public double NormBiasLrScale { get; init; } = 1;
    /// <summary>Weight averaging as airbench's lookahead: from 30% of the epochs on, every 5 steps an
    /// exponential average of the weights is updated and copied back into the network.</summary>
    public bool Lookahead { get; init; }

    public int ValidationSize { get; init; } = 5000;
    public bool RandomCrop { get; init; } = true;
    /// <summary>Random-crop padding in pixels on each side (the maximum translation).</summary>
    public int CropPadding { get; init; } = 4;
    /// <summary>How the crop's border is filled: zeros (torchvision's RandomCrop) or reflect (airbench).</summary>
    public string CropPadMode { get; init; } = "zeros";
    public bool HorizontalFlip { get; init; } = true;
    /// <summary>Flip each image on every other epoch (from a random start) instead of with probability
    /// 0.5 each epoch: the network sees both orientations of every image every two epochs.</summary>
    public bool AlternatingFlip { get; init; }
    public int Cutout { get; init; }
    /// <summary>Use only the first N training images (after the validation split); 0 = all. For quick experiments.</summary>
    public int TrainSubset { get; init; }

    public long Seed { get; init; }
    /// <summary>Intra-op threads for libtorch; 0 leaves libtorch's default (one per core).</summary>
    public int Threads { get; init; }
    public string Device { get; init; } = "cpu";
    public int EvalBatchSize { get; init; } = 1000;
    /// <summary>fp32, bf16 (convolutions in bfloat16, weights and batch norm in float32; networks that
    /// support it), or auto: bf16 where both the network and the device support it.</summary>
    public string Precision { get; init; } = "auto";
    /// <summary>Measure the final test accuracy with test-time augmentation (mirror and ±1 pixel translations).</summary>
    public bool TestTta { get; init; }

    /// <summary>
    /// The default `train` recipe, airbench94's hyperparameters (Keller Jordan,
    /// https://github.com/KellerJordan/cifar10-airbench) restated for a mean (not summed) loss:
    /// lr 11.5 per 1024 examples with Nesterov momentum 0.85 is 11.5 / (1 + 1/0.15) = 1.5, and
    /// weight decay 0.0153 per 1024 examples decoupled from lr is 0.0153 / 11.5 in PyTorch's coupled form.
    /// Trains on all 50,000 training images, as airbench does (the test set is measured once at the end).
    /// </summary>
    public static TrainConfig FastRecipe { get; } = new()
    {
        Model = "fast",
        Epochs = 10,
        BatchSize = 1024,
        LearningRate = 1.5,
        Optimizer = "sgd",
        Momentum = 0.85,
        Nesterov = true,
        WeightDecay = 0.0153 / 11.5,
        LabelSmoothing = 0.2,
        Schedule = "triangle",
        NormBiasLrScale = 64,
        Lookahead = true,
        ValidationSize = 0,
        CropPadding = 2,
        CropPadMode = "reflect",
        AlternatingFlip = true,
        TestTta = true,
    };

    /// <summary>The defaults for a network: the fast recipe for `fast`, the classic settings for the others.</summary>
    public static TrainConfig DefaultsFor(string model) =>
        string.Equals(model, FastRecipe.Model, StringComparison.OrdinalIgnoreCase)
            ? FastRecipe
            : new TrainConfig { Model = model.ToLowerInvariant() };

    public static readonly string[] Optimizers = ["sgd", "adam", "adamw"];
    public static readonly string[] Schedules = ["constant", "step", "multistep", "cosine", "onecycle", "triangle"];
    public static readonly string[] Precisions = ["auto", "fp32", "bf16"];
    public static readonly string[] PadModes = ["zeros", "reflect"];

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
        Require(NormBiasLrScale > 0 && double.IsFinite(NormBiasLrScale), $"norm-bias lr scale must be positive (got {NormBiasLrScale})");
        Require(NormBiasLrScale == 1 || Optimizer == "sgd", "a norm-bias lr scale other than 1 needs the sgd optimizer");
        Require(CropPadding >= 0 && CropPadding <= 16, $"crop padding must be in 0..16 (got {CropPadding})");
        Require(PadModes.Contains(CropPadMode), $"unknown pad mode '{CropPadMode}'; choose one of: {string.Join(", ", PadModes)}");
        Require(!AlternatingFlip || HorizontalFlip, "alternating flips need flipping on");
        Require(Precisions.Contains(Precision), $"unknown precision '{Precision}'; choose one of: {string.Join(", ", Precisions)}");
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
