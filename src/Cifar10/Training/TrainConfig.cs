using System.Text.Json.Serialization;
using Cifar10.Data;
using Cifar10.Evaluation;

namespace Cifar10.Training;

/// <summary>Muon orthogonalises the updates of the weight matrices and hands the rest to <see cref="TrainConfig.MuonFallback"/>.</summary>
public enum OptimizerKind { Sgd, Adam, AdamW, Muon }

/// <summary>Linear: from the peak straight down to zero at the last step (airbench94_muon's).</summary>
public enum ScheduleKind { Constant, Step, Multistep, Cosine, OneCycle, Triangle, Linear }

/// <summary>What the convolutions of a network compute in. Auto depends on the network and the CPU (see <see cref="Precision"/>).</summary>
public enum PrecisionMode { Auto, Fp32, Bf16 }

/// <summary>Whether one run trains on several MPI processes (docs/distributed.md): auto when an MPI launcher
/// (mpirun, srun --mpi=pmix) started the process, mpi to require one, off for one process whatever started it.</summary>
public enum DistributedMode { Auto, Off, Mpi }

/// <summary>
/// Every setting of a training run, as typed values (as airbench keeps its hyperparameters in one
/// place). The defaults here are the classic recipe; <see cref="TrainSettings.Resolve"/> starts from
/// the recipe of the chosen network instead and applies the user's settings on top. Each property
/// is described, parsed, validated and written to config.json by its entry in
/// <see cref="TrainSettings.All"/>.
/// </summary>
[JsonConverter(typeof(TrainConfigJsonConverter))]
public sealed record TrainConfig
{
    public string Model { get; init; } = "resnet18";
    /// <summary>The recipe the defaults came from (<see cref="Recipes"/>); empty for configs written before recipes had names.</summary>
    public string Recipe { get; init; } = "";
    /// <summary>Dropout probability for networks that have dropout; null keeps the network's own default.</summary>
    public double? Dropout { get; init; }
    /// <summary>Number of conv blocks, for networks with a depth (tutorial: 2..4).</summary>
    public int Depth { get; init; } = 3;

    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.1;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;
    public double LabelSmoothing { get; init; }
    /// <summary>Muon: the learning rate of the weight matrices at the schedule's peak (the other parameters take <see cref="LearningRate"/>).</summary>
    public double MuonLearningRate { get; init; } = 0.02;
    public double MuonMomentum { get; init; } = 0.95;
    public int MuonNewtonSchulzSteps { get; init; } = 5;
    /// <summary>Muon: the optimizer of the parameters Muon leaves alone (biases, norm parameters, the output layer).</summary>
    public OptimizerKind MuonFallback { get; init; } = OptimizerKind.Sgd;
    /// <summary>sgd: learning-rate multiplier of the output layer (its decay step unchanged). 1 = no special treatment.</summary>
    public double HeadLrScale { get; init; } = 1;
    /// <summary>Rescale the gradients so that their global L2 norm is at most this; 0 = no clipping.</summary>
    public double ClipGradNorm { get; init; }

    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
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
    /// <summary>Stop after this many epochs without a better validation accuracy (the best checkpoint
    /// is kept); 0 = never stop early.</summary>
    public int EarlyStop { get; init; }

    /// <summary>The data set: CIFAR-10, CIFAR-100 or an image folder (auto: an image folder when --data has the layout).</summary>
    public DatasetKind Dataset { get; init; } = DatasetKind.Auto;
    /// <summary>CIFAR-100's labels: the 100 fine classes or the 20 coarse ones.</summary>
    public LabelKind Labels { get; init; } = LabelKind.Fine;
    /// <summary>Image folders without a test/ folder: training images held out as the test set.</summary>
    public int TestSize { get; init; }
    /// <summary>Image folders: train without the files that cannot be decoded (counted) instead of stopping.</summary>
    public bool SkipBadImages { get; init; }

    public int ValidationSize { get; init; } = 5000;
    /// <summary>Use only the first N training images (after the validation split); 0 = all. For quick experiments.</summary>
    public int TrainSubset { get; init; }
    public bool RandomCrop { get; init; } = true;
    /// <summary>Random-crop padding in pixels on each side (the maximum translation).</summary>
    public int CropPadding { get; init; } = 4;
    /// <summary>How the crop's border is filled: zeros (torchvision's RandomCrop) or reflect (airbench).</summary>
    public PadMode CropPadMode { get; init; } = PadMode.Zeros;
    public bool HorizontalFlip { get; init; } = true;
    /// <summary>Flip each image on every other epoch (from a random start) instead of with probability
    /// 0.5 each epoch: the network sees both orientations of every image every two epochs.</summary>
    public bool AlternatingFlip { get; init; }
    public int Cutout { get; init; }
    /// <summary>Progressive resizing (fast.ai's DAWNBench entries): the first <see cref="LowResFraction"/> of the epochs
    /// train on images downscaled to this side in pixels, the rest at full size; 0 = full size throughout. A
    /// convolution's cost grows with the pixels, so a 24-pixel epoch of the fast network costs about 0.55 of a
    /// 32-pixel one. Networks that take any image size only (<see cref="Models.IAnyImageSize"/>).</summary>
    public int LowRes { get; init; }
    /// <summary>The share of the epochs (from the first) that train at <see cref="LowRes"/>.</summary>
    public double LowResFraction { get; init; } = 0.5;

    /// <summary>The side the training images of 1-based <paramref name="epoch"/> are downscaled to, or null for full size.</summary>
    public int? LowResIn(int epoch) => LowRes > 0 && epoch - 1 < LowResEpochs ? LowRes : null;

    /// <summary>How many of the first epochs train at <see cref="LowRes"/>.</summary>
    public int LowResEpochs => LowRes > 0 ? (int)Math.Round(LowResFraction * Epochs) : 0;

    public long Seed { get; init; }
    /// <summary>Intra-op threads for libtorch; 0 leaves libtorch's default (one per core).</summary>
    public int Threads { get; init; }
    public string Device { get; init; } = "cpu";
    public int EvalBatchSize { get; init; } = 500;
    /// <summary>Data-parallel training over the processes of an MPI launch; a fact about where the run runs, like <see cref="Threads"/>.</summary>
    public DistributedMode Distributed { get; init; } = DistributedMode.Auto;
    /// <summary>fp32, bf16 (convolutions in bfloat16, weights and batch norm in float32; networks that
    /// support it), or auto: bf16 where the network supports it and the CPU computes bf16 fast, else fp32 (see <see cref="Training.Precision"/>).</summary>
    public PrecisionMode Precision { get; init; } = PrecisionMode.Auto;
    /// <summary>Measure the final test accuracy with test-time augmentation (mirror and ±1 pixel translations).</summary>
    public bool TestTta { get; init; }
    /// <summary>With <see cref="TestTta"/>: only images whose plain view's confidence (top probability) is
    /// below this get every view; the others keep the plain prediction. 1 gives every image every view.</summary>
    public double TtaConfidence { get; init; } = 1;

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
        Flip = HorizontalFlip && !AlternatingFlip, Cutout = Cutout,
    };

    // Records compare arrays by reference; configs are equal when every setting has the same value.
    public bool Equals(TrainConfig? other) => other is not null && TrainSettings.All.All(s => s.SameValue(this, other));

    public override int GetHashCode() => HashCode.Combine(Model, Recipe, Epochs, BatchSize, LearningRate, Seed);
}
