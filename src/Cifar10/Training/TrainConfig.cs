using System.Text.Json.Serialization;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Runtime;

namespace Cifar10.Training;

/// <summary>The optimizers a run can train with (<c>--optimizer</c>).</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with momentum (optionally Nesterov) and L2 weight decay.</summary>
    Sgd,
    /// <summary>Adam, its weight decay added to the gradient (L2).</summary>
    Adam,
    /// <summary>AdamW: Adam with decoupled weight decay.</summary>
    AdamW,
    /// <summary>Muon orthogonalises the updates of the weight matrices and hands the rest to <see cref="TrainConfig.MuonFallback"/>.</summary>
    Muon,
}

/// <summary>How the learning rate moves over a run (<c>--schedule</c>); a warm-up (<see cref="TrainConfig.WarmupEpochs"/>) applies on top of any.</summary>
public enum ScheduleKind
{
    /// <summary>The peak rate throughout.</summary>
    Constant,
    /// <summary>Multiplied by <see cref="TrainConfig.Gamma"/> every <see cref="TrainConfig.StepEpochs"/> epochs (PyTorch's StepLR).</summary>
    Step,
    /// <summary>Multiplied by <see cref="TrainConfig.Gamma"/> at each of <see cref="TrainConfig.Milestones"/> (PyTorch's MultiStepLR).</summary>
    Multistep,
    /// <summary>Cosine annealing from the peak to zero over the run.</summary>
    Cosine,
    /// <summary>PyTorch's OneCycleLR: up from a 25th of the peak over the first 30% of the steps, then down to almost zero.</summary>
    OneCycle,
    /// <summary>airbench94's triangle: linear from 0.2 of the peak up to the peak at 23% of the steps, then down to 0.07 of it.</summary>
    Triangle,
    /// <summary>Linear: from the peak straight down to zero at the last step (airbench94_muon's).</summary>
    Linear,
}

/// <summary>What the convolutions of a network compute in. Auto depends on the network and the CPU (see <see cref="Precision"/>).</summary>
public enum PrecisionMode
{
    /// <summary>Bf16 where the network supports it and the CPU computes bfloat16 fast, else Fp32; resolved before a run starts.</summary>
    Auto,
    /// <summary>Everything in float32.</summary>
    Fp32,
    /// <summary>Convolutions and linear layers in bfloat16 (libtorch's autocast); weights and batch norm stay float32.</summary>
    Bf16,
}

/// <summary>Whether one run trains on several MPI processes (docs/distributed.md): auto when an MPI launcher
/// (mpirun, srun --mpi=pmix) started the process, mpi to require one, off for one process whatever started it.</summary>
public enum DistributedMode
{
    /// <summary>On several processes when an MPI launcher started this one, else in this process alone.</summary>
    Auto,
    /// <summary>In this process alone, whatever started it.</summary>
    Off,
    /// <summary>On the processes of an MPI launch; a usage error without one.</summary>
    Mpi,
}

/// <summary>
/// Every setting of a training run, as typed values (as airbench keeps its hyperparameters in one
/// place). Each setting is declared once, here: the property, its <c>[Setting]</c> attribute (name,
/// help, range, when it applies) and its initial value, the classic recipe's default. The options of
/// <c>train</c>, <c>sweep</c> and <c>lr-find</c>, the names <c>--vary</c> takes, the keys of config.json,
/// validation and docs/cli.md all come from these declarations (<see cref="TrainSettings.All"/>).
/// </summary>
[JsonConverter(typeof(TrainConfigJsonConverter))]
public sealed record TrainConfig
{
    // ---- the network ----
    /// <summary>The network, by its catalog name (<see cref="Models.ModelCatalog"/>).</summary>
    [Setting("model", SettingGroup.Network, "Network (see `cifar10 models`)", Aliases = ["-m"], Hint = "name", LowerCase = true, Check = "KnownModel")]
    public string Model { get; init; } = "fast";

    /// <summary>The recipe the defaults came from (<see cref="Recipes"/>); empty for configs written before recipes had names.</summary>
    [Setting("recipe", SettingGroup.Network, "Training recipe the defaults come from (see `cifar10 models`)", Hint = "name", LowerCase = true, Check = "KnownRecipe")]
    public string Recipe { get; init; } = "";

    // ---- the optimizer (and the length of the run) ----
    /// <summary>Passes over the training set.</summary>
    [Setting("epochs", SettingGroup.Schedule, "Passes over the training set", Aliases = ["-e"], Above = 0)]
    public int Epochs { get; init; } = 10;

    /// <summary>Images per optimizer step (over all ranks of a distributed run).</summary>
    [Setting("batch-size", SettingGroup.Optimizer, "Images per optimizer step", Aliases = ["-b"], Above = 0)]
    public int BatchSize { get; init; } = 128;

    /// <summary>The most images one forward and backward pass takes: a larger batch (or a rank's share of it) is split
    /// into equal parts whose gradients are summed before the one update, so the step holds one part's activations
    /// at a time. Batch norm then normalises each part by its own statistics, as it does each rank's share in a
    /// distributed run. 0: the whole batch in one pass.</summary>
    [Setting("micro-batch", SettingGroup.Optimizer,
             "The most images per forward and backward pass: a larger batch is split into equal parts whose gradients are summed before the update (less memory; batch norm sees each part alone); 0 = the whole batch",
             AtLeast = 0)]
    public int MicroBatch { get; init; }

    /// <summary>The learning rate at the schedule's peak (of every parameter, or those Muon leaves to its fallback).</summary>
    [Setting("lr", SettingGroup.Optimizer, "Peak learning rate", Above = 0, LegacyJsonNames = ["learning_rate"])]
    public double LearningRate { get; init; } = 0.1;

    /// <summary>The optimizer.</summary>
    [Setting("optimizer", SettingGroup.Optimizer, "Optimizer")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>SGD's momentum, in [0, 1).</summary>
    [Setting("momentum", SettingGroup.Optimizer, "SGD momentum", AtLeast = 0, Below = 1)]
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD with Nesterov momentum.</summary>
    [Setting("nesterov", SettingGroup.Optimizer, "Nesterov momentum (sgd)")]
    public bool Nesterov { get; init; }

    /// <summary>Weight decay: L2 for SGD and Adam, decoupled for AdamW.</summary>
    [Setting("weight-decay", SettingGroup.Optimizer, "L2 weight decay", Aliases = ["--wd"], AtLeast = 0)]
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>SGD only: learning-rate multiplier for batch-norm biases; their weight-decay step stays
    /// that of the other weights (airbench's bias_scaler). 1 = no special treatment.</summary>
    [Setting("norm-bias-lr-scale", SettingGroup.Optimizer, "sgd: learning-rate multiplier of batch-norm biases (their decay step unchanged)", Above = 0)]
    public double NormBiasLrScale { get; init; } = 1;

    /// <summary>sgd: learning-rate multiplier of the output layer (its decay step unchanged). 1 = no special treatment.</summary>
    [Setting("head-lr-scale", SettingGroup.Optimizer, "sgd: learning-rate multiplier of the output layer (its decay step unchanged)", Above = 0)]
    public double HeadLrScale { get; init; } = 1;

    /// <summary>Muon: the learning rate of the weight matrices at the schedule's peak (the other parameters take <see cref="LearningRate"/>).</summary>
    [Setting("muon-lr", SettingGroup.Optimizer, "muon: peak learning rate of the weight matrices", Above = 0, AppliesWhen = "optimizer=muon")]
    public double MuonLearningRate { get; init; } = 0.02;

    /// <summary>Muon: the Nesterov momentum of the weight matrices.</summary>
    [Setting("muon-momentum", SettingGroup.Optimizer, "muon: Nesterov momentum of the weight matrices", AtLeast = 0, Below = 1, AppliesWhen = "optimizer=muon")]
    public double MuonMomentum { get; init; } = 0.95;

    /// <summary>Muon: the Newton–Schulz iterations that orthogonalise each update (more is closer to orthogonal, and slower).</summary>
    [Setting("muon-ns-steps", SettingGroup.Optimizer, "muon: Newton–Schulz iterations per update", AtLeast = 1, AtMost = 20, AppliesWhen = "optimizer=muon")]
    public int MuonNewtonSchulzSteps { get; init; } = 5;

    /// <summary>Muon: the optimizer of the parameters Muon leaves alone (biases, norm parameters, the output layer).</summary>
    [Setting("muon-fallback", SettingGroup.Optimizer, "muon: the optimizer of the other parameters (biases, norms, the output layer)",
             Choices = "sgd|adam|adamw", AppliesWhen = "optimizer=muon")]
    public OptimizerKind MuonFallback { get; init; } = OptimizerKind.Sgd;

    /// <summary>Cross-entropy's label smoothing: the share of each target spread over all classes; 0 for none.</summary>
    [Setting("label-smoothing", SettingGroup.Optimizer, "Cross-entropy label smoothing", AtLeast = 0, Below = 1)]
    public double LabelSmoothing { get; init; }

    /// <summary>Rescale the gradients so that their global L2 norm is at most this; 0 = no clipping.</summary>
    [Setting("clip-grad-norm", SettingGroup.Optimizer, "Clip the gradients' global L2 norm to this (0 = off)", AtLeast = 0)]
    public double ClipGradNorm { get; init; }

    // ---- the schedule ----
    /// <summary>How the learning rate moves from step to step.</summary>
    [Setting("schedule", SettingGroup.Schedule, "Learning-rate schedule")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>step: decay every StepEpochs epochs by Gamma.</summary>
    [Setting("step-size", SettingGroup.Schedule, "step schedule: epochs between decays", Above = 0, LegacyJsonNames = ["step_epochs"], AppliesWhen = "schedule=step")]
    public int StepEpochs { get; init; } = 30;

    /// <summary>multistep: decay by Gamma at each of these epochs.</summary>
    [Setting("milestones", SettingGroup.Schedule, "multistep schedule: epochs at which to decay, e.g. --milestones 30 60", Above = 0, AppliesWhen = "schedule=multistep")]
    public int[] Milestones { get; init; } = [];

    /// <summary>The factor the step and multistep schedules multiply the rate by at each decay.</summary>
    [Setting("gamma", SettingGroup.Schedule, "Decay factor of step and multistep", Above = 0, AppliesWhen = "schedule=step|multistep")]
    public double Gamma { get; init; } = 0.1;

    /// <summary>Linear warm-up length in epochs (fractions allowed), applied on top of any schedule.</summary>
    [Setting("warmup", SettingGroup.Schedule, "Linear warm-up, in epochs", AtLeast = 0, LegacyJsonNames = ["warmup_epochs"])]
    public double WarmupEpochs { get; init; }

    /// <summary>Weight averaging as airbench's lookahead: from 30% of the epochs on, every 5 steps an
    /// exponential average of the weights is updated and copied back into the network.</summary>
    [Setting("lookahead", SettingGroup.Schedule, "Weight averaging (airbench's lookahead)")]
    public bool Lookahead { get; init; }

    /// <summary>Stop after this many epochs without a better validation accuracy (the best checkpoint
    /// is kept); 0 = never stop early.</summary>
    [Setting("early-stop", SettingGroup.Schedule, "Stop after this many epochs without a better validation accuracy (0 = never)", AtLeast = 0)]
    public int EarlyStop { get; init; }

    /// <summary>A budget for the epoch loop: stop after the last epoch expected to end within this many minutes
    /// (the next one is expected to take as long as the slowest so far, scaled by its pixels under
    /// <see cref="LowRes"/>), so a schedule too long for the machine
    /// runs its longest prefix that fits; 0 = no limit. The test set is measured afterwards as usual.</summary>
    [Setting("time-limit", SettingGroup.Schedule, "Stop after the last epoch expected to end within this many minutes of training (0 = no limit)", AtLeast = 0)]
    public double TimeLimitMinutes { get; init; }

    // ---- the network's own options ----
    /// <summary>Dropout probability for networks that have dropout; null keeps the network's own default.</summary>
    [Setting("dropout", SettingGroup.Network, "Dropout probability (networks with dropout; 'default' = the network's own)", AtLeast = 0, Below = 1, NullWord = "default")]
    public double? Dropout { get; init; }

    /// <summary>Number of conv blocks, for networks with a depth (tutorial: 2..4).</summary>
    [Setting("depth", SettingGroup.Network, "Conv blocks (networks with a depth: tutorial 2..4)", Above = 0)]
    public int Depth { get; init; } = 3;

    // ---- the data ----
    /// <summary>The data set: CIFAR-10, CIFAR-100 or an image folder (auto: an image folder when --data has the layout).</summary>
    [Setting("dataset", SettingGroup.Data, "Data set; auto: an image folder when --data has train/CLASS/ folders, else cifar10")]
    public DatasetKind Dataset { get; init; } = DatasetKind.Auto;

    /// <summary>CIFAR-100's labels: the 100 fine classes or the 20 coarse ones.</summary>
    [Setting("labels", SettingGroup.Data, "CIFAR-100's labels: 100 fine classes or 20 coarse ones")]
    public LabelKind Labels { get; init; } = LabelKind.Fine;

    /// <summary>Image folders without a test/ folder: training images held out as the test set.</summary>
    [Setting("test-size", SettingGroup.Data, "Image folders without test/: training images held out (seeded) as the test set", AtLeast = 0)]
    public int TestSize { get; init; }

    /// <summary>Image folders: train without the files that cannot be decoded (counted) instead of stopping.</summary>
    [Setting("skip-bad-images", SettingGroup.Data, "Image folders: leave out (and count) files that cannot be decoded instead of stopping")]
    public bool SkipBadImages { get; init; }

    /// <summary>Training images held out for validation; null (auto) holds out
    /// <see cref="AutoValidationShare"/> of them, at most <see cref="AutoValidationMax"/>.</summary>
    [Setting("val-size", SettingGroup.Data, "Images held out of training for validation (0 = none; auto = 10% of the training images, at most 5,000)",
             AtLeast = 0, NullWord = "auto", LegacyJsonNames = ["validation_size"])]
    public int? ValidationSize { get; init; }

    /// <summary>Use only the first N training images (after the validation split); 0 = all. For quick experiments.</summary>
    [Setting("subset", SettingGroup.Data, "Train on only the first N training images (0 = all)", AtLeast = 0, LegacyJsonNames = ["train_subset"])]
    public int TrainSubset { get; init; }

    // ---- augmentation ----
    /// <summary>Random crops: each training image shifted by up to <see cref="CropPadding"/> pixels.</summary>
    [Setting("crop", SettingGroup.Augmentation, "Random crop (translation)", LegacyJsonNames = ["random_crop"])]
    public bool RandomCrop { get; init; } = true;

    /// <summary>Random-crop padding in pixels on each side (the maximum translation).</summary>
    [Setting("crop-padding", SettingGroup.Augmentation, "Random-crop padding (maximum shift) in pixels", AtLeast = 0, AtMost = 16, AppliesWhen = "crop=true")]
    public int CropPadding { get; init; } = 4;

    /// <summary>How the crop's border is filled: zeros (torchvision's RandomCrop) or reflect (airbench).</summary>
    [Setting("pad-mode", SettingGroup.Augmentation, "Random-crop border", LegacyJsonNames = ["crop_pad_mode"], AppliesWhen = "crop=true")]
    public PadMode CropPadMode { get; init; } = PadMode.Zeros;

    /// <summary>Random horizontal flips (or alternating ones with <see cref="AlternatingFlip"/>).</summary>
    [Setting("flip", SettingGroup.Augmentation, "Random horizontal flips", LegacyJsonNames = ["horizontal_flip"])]
    public bool HorizontalFlip { get; init; } = true;

    /// <summary>Flip each image on every other epoch (from a random start) instead of with probability
    /// 0.5 each epoch: the network sees both orientations of every image every two epochs.</summary>
    [Setting("alternating-flip", SettingGroup.Augmentation, "Flip every image on every other epoch instead of at random")]
    public bool AlternatingFlip { get; init; }

    /// <summary>Brightness jitter (torchvision's ColorJitter): each training image's pixels scaled by a factor drawn
    /// from [1 − b, 1 + b]; 0 for none.</summary>
    [Setting("brightness", SettingGroup.Augmentation, "Brightness jitter: pixels scaled by a random factor in [1-b, 1+b] (0 = off)", AtLeast = 0, AtMost = 1)]
    public double Brightness { get; init; }

    /// <summary>Contrast jitter (torchvision's ColorJitter): each training image blended with its mean grey by a
    /// factor drawn from [1 − c, 1 + c]; 0 for none.</summary>
    [Setting("contrast", SettingGroup.Augmentation, "Contrast jitter: each image blended with its mean grey by a random factor in [1-c, 1+c] (0 = off)", AtLeast = 0, AtMost = 1)]
    public double Contrast { get; init; }

    /// <summary>The side of the Cutout square blanked in each training image, in pixels; 0 for none.</summary>
    [Setting("cutout", SettingGroup.Augmentation, "Cutout square size in pixels (0 = off)", AtLeast = 0, AtMost = 32)]
    public int Cutout { get; init; }

    /// <summary>Progressive resizing (fast.ai's DAWNBench entries): the first <see cref="LowResFraction"/> of the epochs
    /// train on images downscaled to this side in pixels, the rest at full size; 0 = full size throughout. A
    /// convolution's cost grows with the pixels, so a 24-pixel epoch of the fast network costs about 0.55 of a
    /// 32-pixel one. Networks that take any image size only (<see cref="Models.IAnyImageSize"/>).</summary>
    [Setting("low-res", SettingGroup.Schedule, "Progressive resizing: the first epochs (--low-res-fraction) train on images downscaled to this side in pixels (0 = off)", AtLeast = 0)]
    public int LowRes { get; init; }

    /// <summary>The share of the epochs (from the first) that train at <see cref="LowRes"/>.</summary>
    [Setting("low-res-fraction", SettingGroup.Schedule, "Progressive resizing: the share of the epochs, from the first, at --low-res", AtLeast = 0, AtMost = 1, AppliesWhen = "low-res>0")]
    public double LowResFraction { get; init; } = 0.5;

    // ---- the machine and the run ----
    /// <summary>The seed every random choice of the run derives from (initialisation, split, shuffles, augmentation, dropout).</summary>
    [Setting("seed", SettingGroup.Machine, "Seed of every random choice; same seed, same machine, same threads: same run", AtLeast = 0)]
    public long Seed { get; init; }

    /// <summary>Intra-op threads for libtorch; 0 leaves libtorch's default (one per core).</summary>
    [Setting("threads", SettingGroup.Machine, "libtorch intra-op threads (0 = one per core)", AtLeast = 0, AtMost = DeviceSetup.MaxThreads, DescribesMachine = true)]
    public int Threads { get; init; }

    /// <summary>The compute device: cpu, cuda or cuda:N.</summary>
    [Setting("device", SettingGroup.Machine, "Compute device: cpu, cuda or cuda:N (cuda needs a build with -p:TorchBackend=cuda)",
             Hint = "cpu|cuda|cuda:N", LowerCase = true, DescribesMachine = true)]
    public string Device { get; init; } = "cpu";

    /// <summary>Data-parallel training over the processes of an MPI launch; a fact about where the run runs, like <see cref="Threads"/>.</summary>
    [Setting("distributed", SettingGroup.Machine,
             "Data-parallel training on the processes of an MPI launch (mpirun -n N cifar10 train): auto = when an MPI launcher started the tool, mpi = require one, off = one process",
             DescribesMachine = true)]
    public DistributedMode Distributed { get; init; } = DistributedMode.Auto;

    /// <summary>fp32, bf16 (convolutions in bfloat16, weights and batch norm in float32; networks that
    /// support it), or auto: bf16 where the network supports it and the CPU computes bf16 fast, else fp32 (see <see cref="Training.Precision"/>).</summary>
    [Setting("precision", SettingGroup.Machine,
             "Convolutions in fp32 or bf16 (networks that support it; weights and batch norm stay fp32); auto = bf16 where the CPU computes it fast (AMX, AMD AVX-512 BF16), else fp32")]
    public PrecisionMode Precision { get; init; } = PrecisionMode.Auto;

    // ---- evaluation ----
    /// <summary>Images per forward pass in validation and the test evaluation (memory, not results, depends on it).</summary>
    [Setting("eval-batch-size", SettingGroup.Evaluation, "Images per forward pass in validation and test", Above = 0)]
    public int EvalBatchSize { get; init; } = 500;

    /// <summary>Measure the test accuracy with test-time augmentation (mirror and ±1 pixel translations): the setting
    /// `tta` (formerly `test-tta`), which `eval --tta` takes too.</summary>
    [Setting("tta", SettingGroup.Evaluation,
             "Test accuracy with test-time augmentation: each image's predictions averaged over it, its mirror and one-pixel shifts of both (6 views)",
             Aliases = ["--test-tta"], LegacyJsonNames = ["test_tta"])]
    public bool TestTta { get; init; }

    /// <summary>With <see cref="TestTta"/>: only images whose plain view's confidence (top probability) is
    /// below this get every view; the others keep the plain prediction. 1 gives every image every view.</summary>
    [Setting("tta-confidence", SettingGroup.Evaluation,
             "With tta: every view only for images whose plain view's top probability is below this; the others keep the plain prediction (1 = every image)",
             Above = 0, AtMost = 1, AppliesWhen = "tta=true")]
    public double TtaConfidence { get; init; } = 1;

    /// <summary>The share of the training images auto validation holds out, and its most.</summary>
    public const double AutoValidationShare = 0.1;
    /// <summary>The most images auto validation holds out.</summary>
    public const int AutoValidationMax = 5000;

    /// <summary>How many of <paramref name="trainingImages"/> are held out for validation.</summary>
    public int ValidationImages(int trainingImages) =>
        ValidationSize ?? Math.Min(AutoValidationMax, (int)(trainingImages * AutoValidationShare));

    /// <summary>Whether the run holds out validation images (auto does, except on data too small to spare one).</summary>
    public bool HasValidation => ValidationSize is not 0;

    /// <summary>The side the training images of 1-based <paramref name="epoch"/> are downscaled to, or null for full size.</summary>
    public int? LowResIn(int epoch) => LowRes > 0 && epoch - 1 < LowResEpochs ? LowRes : null;

    /// <summary>Epoch <paramref name="epoch"/>'s share of the pixels of full-size images <paramref name="height"/> × <paramref name="width"/>:
    /// (<see cref="LowRes"/>)² over them in a low-res epoch, 1 otherwise; an epoch's work is about proportional to it.</summary>
    public double PixelShareIn(int epoch, long height, long width) => LowResIn(epoch) is int side ? (double)side * side / (height * width) : 1;

    /// <summary>How many of the first epochs train at <see cref="LowRes"/>.</summary>
    public int LowResEpochs => LowRes > 0 ? (int)Math.Round(LowResFraction * Epochs) : 0;

    /// <summary>Throws <see cref="ConfigException"/> naming the first invalid setting.</summary>
    public TrainConfig Validated() => TrainSettings.Validate(this);

    /// <summary>What data this config trains on, at <paramref name="data"/> (--data, or null for the default lookup).</summary>
    public DataRequest DataRequest(string? data, DownloadOptions download) => new()
    {
        Data = data, Dataset = Dataset, Labels = Labels, TestSize = TestSize, SkipBadImages = SkipBadImages, Seed = Seed, Download = download,
    };

    /// <summary>The views the final test evaluation averages.</summary>
    public TestTimeAugmentation TestViews => TestTta ? TestTimeAugmentation.MirrorTranslate : TestTimeAugmentation.None;

    /// <summary>The augmentations this config trains with; alternating flips are applied by the
    /// trainer on top (they depend on the epoch).</summary>
    public AugmentOptions Augmentation => new()
    {
        Crop = RandomCrop, Padding = CropPadding, PadMode = CropPadMode,
        Flip = HorizontalFlip && !AlternatingFlip, Brightness = Brightness, Contrast = Contrast, Cutout = Cutout,
    };

    // Records compare arrays by reference; configs are equal when every setting has the same value.
    /// <summary>Equal when every setting has the same value (lists compared element by element).</summary>
    public bool Equals(TrainConfig? other) => other is not null && TrainSettings.All.All(s => s.SameValue(this, other));

    /// <summary>A hash consistent with <see cref="Equals(TrainConfig)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Model, Recipe, Epochs, BatchSize, LearningRate, Seed);
}
