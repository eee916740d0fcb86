using System.Globalization;
using Cifar10.Data;
using Cifar10.Models;
using Cifar10.Runtime;

namespace Cifar10.Training;

/// <summary>
/// The settings table: every training setting, declared once. The <c>train</c>, <c>sweep</c> and
/// <c>lr-find</c> options, the names <c>--vary</c> accepts, the keys of config.json and the checks
/// of <see cref="Validate"/> all come from it, and a recipe is resolved in one place
/// (<see cref="Resolve"/>): the network's recipe first, then the user's settings.
/// </summary>
public static class TrainSettings
{
    /// <summary>The network `train` uses when none is named.</summary>
    public const string DefaultModel = "fast";

    public static readonly Setting<string> Model = new("model", "Network (see `cifar10 models`)",
        c => c.Model, (c, v) => c with { Model = v.ToLowerInvariant() },
        v => ModelCatalog.Contains(v) ? null : $"unknown model '{v}'; choose one of: {ModelCatalog.Names}", aliases: ["-m"], hint: "name");

    public static readonly Setting<string> Recipe = new("recipe", "Training recipe the defaults come from (see `cifar10 models`)",
        c => c.Recipe, (c, v) => c with { Recipe = v.ToLowerInvariant() },
        v => v.Length == 0 || Recipes.All.Any(r => r.Name == v) ? null : $"unknown recipe '{v}'; choose one of: {Recipes.Names}", hint: "name");

    /// <summary>Every setting, in the order help texts list them.</summary>
    public static IReadOnlyList<Setting> All { get; } =
    [
        Model,
        Recipe,
        new Setting<int>("epochs", "Passes over the training set", c => c.Epochs, (c, v) => c with { Epochs = v },
            v => v > 0 ? null : $"epochs must be positive (got {v})", aliases: ["-e"]),
        new Setting<int>("batch-size", "Images per optimizer step", c => c.BatchSize, (c, v) => c with { BatchSize = v },
            v => v > 0 ? null : $"batch size must be positive (got {v})", aliases: ["-b"]),
        new Setting<double>("lr", "Peak learning rate", c => c.LearningRate, (c, v) => c with { LearningRate = v },
            v => v > 0 && double.IsFinite(v) ? null : $"learning rate must be a positive finite number (got {Show(v)})",
            legacyJsonNames: ["learning_rate"]),
        new Setting<OptimizerKind>("optimizer", "Optimizer", c => c.Optimizer, (c, v) => c with { Optimizer = v }),
        new Setting<double>("momentum", "SGD momentum", c => c.Momentum, (c, v) => c with { Momentum = v },
            v => v >= 0 && v < 1 ? null : $"momentum must be in [0, 1) (got {Show(v)})"),
        new Setting<bool>("nesterov", "Nesterov momentum (sgd)", c => c.Nesterov, (c, v) => c with { Nesterov = v }),
        new Setting<double>("weight-decay", "L2 weight decay", c => c.WeightDecay, (c, v) => c with { WeightDecay = v },
            NonNegative("weight decay"), aliases: ["--wd"]),
        new Setting<double>("norm-bias-lr-scale", "sgd: learning-rate multiplier of batch-norm biases (their decay step unchanged)",
            c => c.NormBiasLrScale, (c, v) => c with { NormBiasLrScale = v },
            v => v > 0 && double.IsFinite(v) ? null : $"norm-bias lr scale must be a positive finite number (got {Show(v)})"),
        new Setting<double>("head-lr-scale", "sgd: learning-rate multiplier of the output layer (its decay step unchanged)",
            c => c.HeadLrScale, (c, v) => c with { HeadLrScale = v },
            v => v > 0 && double.IsFinite(v) ? null : $"head lr scale must be a positive finite number (got {Show(v)})"),
        new Setting<double>("muon-lr", "muon: peak learning rate of the weight matrices", c => c.MuonLearningRate,
            (c, v) => c with { MuonLearningRate = v },
            v => v > 0 && double.IsFinite(v) ? null : $"muon learning rate must be a positive finite number (got {Show(v)})"),
        new Setting<double>("muon-momentum", "muon: Nesterov momentum of the weight matrices", c => c.MuonMomentum,
            (c, v) => c with { MuonMomentum = v }, v => v >= 0 && v < 1 ? null : $"muon momentum must be in [0, 1) (got {Show(v)})"),
        new Setting<int>("muon-ns-steps", "muon: Newton–Schulz iterations per update", c => c.MuonNewtonSchulzSteps,
            (c, v) => c with { MuonNewtonSchulzSteps = v }, v => v is >= 1 and <= 20 ? null : $"muon-ns-steps must be in 1..20 (got {v})"),
        new Setting<OptimizerKind>("muon-fallback", "muon: the optimizer of the other parameters (biases, norms, the output layer)",
            c => c.MuonFallback, (c, v) => c with { MuonFallback = v }, v => v != OptimizerKind.Muon ? null : "muon-fallback cannot be muon"),
        new Setting<double>("label-smoothing", "Cross-entropy label smoothing", c => c.LabelSmoothing, (c, v) => c with { LabelSmoothing = v },
            v => v >= 0 && v < 1 ? null : $"label smoothing must be in [0, 1) (got {Show(v)})"),
        new Setting<double>("clip-grad-norm", "Clip the gradients' global L2 norm to this (0 = off)", c => c.ClipGradNorm,
            (c, v) => c with { ClipGradNorm = v }, NonNegative("clip-grad-norm")),
        new Setting<ScheduleKind>("schedule", "Learning-rate schedule", c => c.Schedule, (c, v) => c with { Schedule = v }),
        new Setting<int>("step-size", "step schedule: epochs between decays", c => c.StepEpochs, (c, v) => c with { StepEpochs = v },
            v => v > 0 ? null : $"step size must be positive (got {v})", legacyJsonNames: ["step_epochs"]),
        new Setting<int[]>("milestones", "multistep schedule: epochs at which to decay, e.g. --milestones 30 60",
            c => c.Milestones, (c, v) => c with { Milestones = v },
            v => v.All(m => m > 0) ? null : "milestones must be positive epoch numbers"),
        new Setting<double>("gamma", "Decay factor of step and multistep", c => c.Gamma, (c, v) => c with { Gamma = v },
            v => v > 0 && double.IsFinite(v) ? null : $"gamma must be a positive finite number (got {Show(v)})"),
        new Setting<double>("warmup", "Linear warm-up, in epochs", c => c.WarmupEpochs, (c, v) => c with { WarmupEpochs = v },
            NonNegative("warm-up"), legacyJsonNames: ["warmup_epochs"]),
        new Setting<bool>("lookahead", "Weight averaging (airbench's lookahead)", c => c.Lookahead, (c, v) => c with { Lookahead = v }),
        new Setting<int>("early-stop", "Stop after this many epochs without a better validation accuracy (0 = never)",
            c => c.EarlyStop, (c, v) => c with { EarlyStop = v }, v => v >= 0 ? null : $"early-stop must not be negative (got {v})"),
        new Setting<double?>("dropout", "Dropout probability (networks with dropout; 'default' = the network's own)",
            c => c.Dropout, (c, v) => c with { Dropout = v },
            v => v is null ? null : ModelGuards.DropoutProblem(v.Value)),
        new Setting<int>("depth", "Conv blocks (networks with a depth: tutorial 2..4)", c => c.Depth, (c, v) => c with { Depth = v },
            v => v > 0 ? null : $"depth must be positive (got {v})"),
        new Setting<DatasetKind>("dataset", "Data set; auto: an image folder when --data has train/CLASS/ folders, else cifar10",
            c => c.Dataset, (c, v) => c with { Dataset = v }),
        new Setting<LabelKind>("labels", "CIFAR-100's labels: 100 fine classes or 20 coarse ones", c => c.Labels, (c, v) => c with { Labels = v }),
        new Setting<int>("test-size", "Image folders without test/: training images held out (seeded) as the test set", c => c.TestSize,
            (c, v) => c with { TestSize = v }, v => v >= 0 ? null : $"test size must not be negative (got {v})"),
        new Setting<bool>("skip-bad-images", "Image folders: leave out (and count) files that cannot be decoded instead of stopping",
            c => c.SkipBadImages, (c, v) => c with { SkipBadImages = v }),
        new Setting<int>("val-size", "Images held out of training for validation (0 = none)", c => c.ValidationSize,
            (c, v) => c with { ValidationSize = v }, v => v >= 0 ? null : $"validation size must not be negative (got {v})",
            legacyJsonNames: ["validation_size"]),
        new Setting<int>("subset", "Train on only the first N training images (0 = all)", c => c.TrainSubset,
            (c, v) => c with { TrainSubset = v }, v => v >= 0 ? null : $"subset must not be negative (got {v})",
            legacyJsonNames: ["train_subset"]),
        new Setting<bool>("crop", "Random crop (translation)", c => c.RandomCrop, (c, v) => c with { RandomCrop = v },
            legacyJsonNames: ["random_crop"]),
        new Setting<int>("crop-padding", "Random-crop padding (maximum shift) in pixels", c => c.CropPadding,
            (c, v) => c with { CropPadding = v }, v => v is >= 0 and <= 16 ? null : $"crop padding must be in 0..16 (got {v})"),
        new Setting<PadMode>("pad-mode", "Random-crop border", c => c.CropPadMode, (c, v) => c with { CropPadMode = v },
            legacyJsonNames: ["crop_pad_mode"]),
        new Setting<bool>("flip", "Random horizontal flips", c => c.HorizontalFlip, (c, v) => c with { HorizontalFlip = v },
            legacyJsonNames: ["horizontal_flip"]),
        new Setting<bool>("alternating-flip", "Flip every image on every other epoch instead of at random", c => c.AlternatingFlip,
            (c, v) => c with { AlternatingFlip = v }),
        new Setting<int>("cutout", "Cutout square size in pixels (0 = off)", c => c.Cutout, (c, v) => c with { Cutout = v },
            v => v is >= 0 and <= 32 ? null : $"cutout must be in 0..32 (got {v})"),
        new Setting<int>("low-res", "Progressive resizing: the first epochs (--low-res-fraction) train on images downscaled to this side in pixels (0 = off)",
            c => c.LowRes, (c, v) => c with { LowRes = v }, v => v >= 0 ? null : $"low-res must not be negative (got {v})"),
        new Setting<double>("low-res-fraction", "Progressive resizing: the share of the epochs, from the first, at --low-res",
            c => c.LowResFraction, (c, v) => c with { LowResFraction = v },
            v => v >= 0 && v <= 1 ? null : $"low-res-fraction must be in [0, 1] (got {Show(v)})"),
        new Setting<long>("seed", "Seed of every random choice; same seed, same machine, same threads: same run", c => c.Seed,
            (c, v) => c with { Seed = v }, v => v >= 0 ? null : $"seed must not be negative (got {v})"),
        new Setting<int>("threads", "libtorch intra-op threads (0 = one per core)", c => c.Threads, (c, v) => c with { Threads = v },
            v => v is >= 0 and <= DeviceSetup.MaxThreads ? null : $"threads must be in 0..{DeviceSetup.MaxThreads} (got {v})", describesMachine: true),
        new Setting<string>("device", "Compute device: cpu, cuda or cuda:N (cuda needs a build with -p:TorchBackend=cuda)",
            c => c.Device, (c, v) => c with { Device = v.ToLowerInvariant() }, describesMachine: true, hint: "cpu|cuda|cuda:N"),
        new Setting<DistributedMode>("distributed",
            "Data-parallel training on the processes of an MPI launch (mpirun -n N cifar10 train): auto = when an MPI launcher started the tool, mpi = require one, off = one process",
            c => c.Distributed, (c, v) => c with { Distributed = v }, describesMachine: true),
        new Setting<int>("eval-batch-size", "Images per forward pass in validation and test", c => c.EvalBatchSize,
            (c, v) => c with { EvalBatchSize = v }, v => v > 0 ? null : $"eval batch size must be positive (got {v})"),
        new Setting<PrecisionMode>("precision",
            "Convolutions in fp32 or bf16 (networks that support it; weights and batch norm stay fp32); auto = bf16 where the CPU computes it fast (AMX, AMD AVX-512 BF16), else fp32",
            c => c.Precision, (c, v) => c with { Precision = v }),
        new Setting<bool>("test-tta", "Final test accuracy with test-time augmentation (mirror, one-pixel shifts)", c => c.TestTta,
            (c, v) => c with { TestTta = v }),
        new Setting<double>("tta-confidence",
            "With test-tta: every view only for images whose plain view's top probability is below this; the others keep the plain prediction (1 = every image)",
            c => c.TtaConfidence, (c, v) => c with { TtaConfidence = v },
            v => v > 0 && v <= 1 ? null : $"tta-confidence must be in (0, 1] (got {Show(v)})"),
    ];

    /// <summary>The setting called <paramref name="name"/> (its option name without dashes).</summary>
    public static Setting Get(string name) =>
        All.FirstOrDefault(s => s.Name == name.Trim().ToLowerInvariant())
        ?? throw new ConfigException($"unknown setting '{name}'; the settings are: {string.Join(", ", All.Select(s => s.Name))}");

    /// <summary>
    /// The config a run uses: the named (or default) network, its recipe (or the one named), then
    /// every other given setting in order. Throws <see cref="ConfigException"/> for an unknown name, a
    /// bad value, a setting given twice, a setting the network does not have, or an invalid combination.
    /// </summary>
    public static TrainConfig Resolve(IEnumerable<KeyValuePair<string, string>> given)
    {
        var settings = given.Select(g => (Setting: Get(g.Key), Text: g.Value)).ToList();
        var twice = settings.GroupBy(s => s.Setting).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ConfigException($"{twice.Key.Name} is given more than once");

        string? Given(Setting setting) => settings.Where(s => s.Setting == setting).Select(s => s.Text).FirstOrDefault();
        var model = ModelCatalog.Get(Given(Model) ?? DefaultModel);
        var recipe = Recipes.Get(Given(Recipe) ?? model.DefaultRecipe);
        var config = recipe.Defaults with { Model = model.Name, Recipe = recipe.Name };
        foreach (var (setting, text) in settings.Where(s => s.Setting != Model && s.Setting != Recipe))
            config = setting.Apply(config, text);

        // The network's own options exist only where it has them; a value it would ignore is a mistake.
        if (Given(Get("depth")) is not null && !model.HasDepth)
            throw new ConfigException($"model '{model.Name}' has no depth setting; models with one: {ModelCatalog.NamesWhere(m => m.HasDepth)}");
        return config.Validated();
    }

    /// <summary>
    /// With <c>--resume</c> a run continues with the settings it started with; only the machine's
    /// (threads, device) may change. Anything else given is refused rather than silently ignored.
    /// </summary>
    public static void RefuseWithResume(IEnumerable<string> givenNames, string runFolder)
    {
        var refused = givenNames.Select(Get).Where(s => !s.DescribesMachine).Select(s => "--" + s.Name).ToList();
        if (refused.Count > 0)
            throw new ConfigException($"--resume continues {runFolder} with the settings it started with; {string.Join(", ", refused)} cannot be changed (start a new run with --out, or use only --threads/--device with --resume)");
    }

    /// <summary>Every setting's range check, then the rules that tie settings together. Returns the config.</summary>
    public static TrainConfig Validate(TrainConfig config)
    {
        foreach (var setting in All)
            if (setting.Check(config) is { } problem) throw new ConfigException(problem);

        var model = ModelCatalog.Get(config.Model);
        // Under muon, --lr, --momentum, --nesterov, --weight-decay and the scales are the fallback's.
        var plain = config.Optimizer == OptimizerKind.Muon ? config.MuonFallback : config.Optimizer;
        Require(!config.Nesterov || (plain == OptimizerKind.Sgd && config.Momentum > 0),
                "nesterov needs the sgd optimizer (or muon's sgd fallback) with momentum > 0");
        Require(config.NormBiasLrScale == 1 || plain == OptimizerKind.Sgd,
                "a norm-bias lr scale other than 1 needs the sgd optimizer");
        Require(config.HeadLrScale == 1 || plain == OptimizerKind.Sgd,
                "a head lr scale other than 1 needs the sgd optimizer");
        Require(!config.AlternatingFlip || config.HorizontalFlip, "alternating flips need flipping on (--flip true)");
        Require(config.WarmupEpochs <= config.Epochs, $"warm-up ({Show(config.WarmupEpochs)} epochs) must not be longer than the run ({config.Epochs} epochs)");
        Require(config.EarlyStop == 0 || config.ValidationSize > 0, "early stopping needs a validation set (--val-size > 0)");
        Require(config.Dropout is null || model.HasDropout,
                $"model '{model.Name}' has no dropout layer; models with dropout: {ModelCatalog.NamesWhere(m => m.HasDropout)}");
        Require(model.Depths is not { } depths || (config.Depth >= depths.Min && config.Depth <= depths.Max),
                $"{model.Name} depth must be between {model.Depths?.Min} and {model.Depths?.Max} (got {config.Depth})");
        Require(config.LowRes == 0 || model.AcceptsAnyImageSize,
                $"--low-res needs a network that takes any image size ({ModelCatalog.NamesWhere(m => m.AcceptsAnyImageSize)}); '{model.Name}' takes only the size it was built for");
        Require(config.Precision != PrecisionMode.Bf16 || model.SupportsBf16,
                $"--precision bf16 needs a network that computes in bfloat16 ({ModelCatalog.NamesWhere(m => m.SupportsBf16)}); '{model.Name}' runs in fp32");
        return config;
    }

    /// <summary>The option's help: what it does and its default in each recipe.</summary>
    public static string Describe(Setting setting)
    {
        if (setting == Model) return $"{setting.Help} [default: {DefaultModel}]";
        if (setting == Recipe)
            return $"{setting.Help}: {Recipes.Names} [default: the model's own: " +
                   string.Join("; ", ModelCatalog.All.GroupBy(m => m.DefaultRecipe).Select(g => $"{g.Key} for {string.Join(", ", g.Select(m => m.Name))}")) + "]";
        var defaults = Recipes.All.Select(r => (r.Name, Value: setting.Format(r.Defaults))).ToList();
        var shown = defaults.Select(d => d.Value).Distinct().Count() == 1
            ? defaults[0].Value
            : string.Join(", ", defaults.Select(d => $"{d.Value} ({d.Name})"));
        return $"{setting.Help} [default: {shown}]";
    }

    static Func<double, string?> NonNegative(string what) =>
        v => v >= 0 && double.IsFinite(v) ? null : $"{what} must be a finite number ≥ 0 (got {Show(v)})";

    static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static void Require(bool condition, string message)
    {
        if (!condition) throw new ConfigException(message);
    }
}
