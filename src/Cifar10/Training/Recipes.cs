using Cifar10.Data;

namespace Cifar10.Training;

/// <summary>A named set of defaults for every setting: the training recipe a network starts from.</summary>
/// <param name="Name">The name <c>--recipe</c> takes.</param>
/// <param name="Description">One line on where the recipe comes from, for help texts.</param>
/// <param name="Defaults">Every setting's value in this recipe (its <see cref="TrainConfig.Model"/> is left to the network).</param>
public sealed record Recipe(string Name, string Description, TrainConfig Defaults);

/// <summary>
/// The recipes the toolkit knows. Each network names its own in its catalog entry
/// (<see cref="Models.ModelInfo.DefaultRecipe"/>); <c>--recipe</c> picks another.
/// </summary>
public static class Recipes
{
    /// <summary>The classic CIFAR-10 settings (kuangliu/pytorch-cifar and most tutorials): batch 128,
    /// SGD lr 0.1 with momentum 0.9 and weight decay 5e-4, a cosine schedule, random crops with 4 zero-padded
    /// pixels and random flips, 10% of the training images (at most 5,000) held out for validation.</summary>
    public static Recipe Classic { get; } = new("classic",
        "batch 128, SGD lr 0.1 momentum 0.9 wd 5e-4, cosine, crop 4 + flip, 10% of the training images (at most 5,000) for validation",
        new TrainConfig { Recipe = "classic" });

    /// <summary>
    /// airbench94's hyperparameters (Keller Jordan, https://github.com/KellerJordan/cifar10-airbench)
    /// restated for a mean (not summed) loss: lr 11.5 per 1024 examples with Nesterov momentum 0.85 is
    /// 11.5 / (1 + 1/0.15) = 1.5, and weight decay 0.0153 per 1024 examples decoupled from lr is
    /// 0.0153 / 11.5 in PyTorch's coupled form. Trains on all 50,000 training images, as airbench does
    /// (the test set is measured once at the end, with test-time augmentation).
    /// </summary>
    public static Recipe Airbench94 { get; } = new("airbench94",
        "airbench94: 10 epochs of batch 1024, Nesterov SGD lr 1.5, label smoothing 0.2, triangle schedule, lookahead, alternating flips, TTA",
        new TrainConfig
        {
            Recipe = "airbench94",
            Epochs = 10,
            BatchSize = 1024,
            LearningRate = 1.5,
            Optimizer = OptimizerKind.Sgd,
            Momentum = 0.85,
            Nesterov = true,
            WeightDecay = 0.0153 / 11.5,
            LabelSmoothing = 0.2,
            Schedule = ScheduleKind.Triangle,
            NormBiasLrScale = 64,
            Lookahead = true,
            ValidationSize = 0,
            CropPadding = 2,
            CropPadMode = PadMode.Reflect,
            AlternatingFlip = true,
            TestTta = true,
        });

    /// <summary>
    /// airbench94_muon's hyperparameters (Keller Jordan, cifar10-airbench, airbench94_muon.py: 94.01% in 8 epochs on
    /// the original data) restated for this network and a mean loss: Muon (lr 0.24, momentum 0.6, Nesterov,
    /// 3 Newton–Schulz steps) on the conv filters; Nesterov SGD (momentum 0.85) on the rest at 2000× the summed-loss
    /// rates (biases 0.053 → 106), weight decay keeping its per-step size (2e-6·2000 = 0.004 = lr·wd); the head at
    /// 0.67 × (9/256)² of the summed-loss rate relative to the biases, since this network scales its logits by 1/9
    /// with a head initialised 256/9 times smaller than airbench94_muon's (which scales by 1/256): the same
    /// function and the same steps, in another parametrisation. Linear decay to zero, no lookahead, batch 2000.
    /// One difference is left: the fast network trains its whitening bias for the first 30% of the epochs (3 of 9, all
    /// at 24×24 in the third version below) at the scheduled rate, where airbench94_muon trains it for 3 epochs with a
    /// rate decaying to zero over them.
    /// Test-time augmentation gives all six views only to the images whose plain view is below 0.6 confident (about
    /// a quarter): measured by bench/tta-policy.sh on two runs (airbench94 seed 0, muon seed 0), it cost 0.01 point
    /// against all views for every image and cut the test evaluation from about 80 s to about 32 s.
    /// Each batch of 2000 goes through the network in 8 parts of 250 (<see cref="TrainConfig.MicroBatch"/>): batch norm
    /// normalises each part alone (airbench's batch norm saw 2000), and the step holds one part's activations at a time;
    /// what that does to memory, speed and accuracy: docs/benchmarks.md#micro-batches (bench/micro-batch.sh).
    /// Two changes of the later CIFAR-10 speed record (hiverge/cifar10-speedrun, 94% in about 2 s on an A100) that pay
    /// on this data: label smoothing 0.1 instead of 0.2, and brightness and contrast jitter (its ±0.13-0.15 shift in
    /// normalised units, by the version of its script, is about ±0.1 of an average pixel's value, hence brightness 0.1;
    /// contrast 0.15): three seeds, docs/results.md#the-default-recipes-second-version-label-smoothing-01-and-colour-jitter.
    /// Third version, for a CPU, where an epoch's cost grows with the pixels: 9 epochs, the first 4 on images
    /// downscaled to 24×24 (progressive resizing, about half an epoch's time each), in place of 8 at full size: the same
    /// accuracy over three seeds in less time, docs/results.md#the-default-recipes-third-version-progressive-resizing.
    /// </summary>
    public static Recipe Muon { get; } = new("muon",
        "airbench94_muon: 9 epochs of batch 2000 (in parts of 250; the first 4 at 24x24 pixels), Muon on the conv filters + Nesterov SGD, label smoothing 0.1, linear decay, alternating flips, brightness 0.1 and contrast 0.15 jitter, TTA below 0.6 confidence",
        Airbench94.Defaults with
        {
            Recipe = "muon",
            Epochs = 9,
            LowRes = 24,
            LowResFraction = 0.5,
            BatchSize = 2000,
            MicroBatch = 250,
            Optimizer = OptimizerKind.Muon,
            MuonLearningRate = 0.24,
            MuonMomentum = 0.6,
            MuonNewtonSchulzSteps = 3,
            MuonFallback = OptimizerKind.Sgd,
            LearningRate = 0.053 * 2000,
            Momentum = 0.85,
            Nesterov = true,
            WeightDecay = 2e-6 * 2000 / (0.053 * 2000),
            NormBiasLrScale = 1,
            HeadLrScale = 0.67 / 0.053 * (9.0 / 256) * (9.0 / 256),
            Schedule = ScheduleKind.Linear,
            Lookahead = false,
            TtaConfidence = 0.6,
            LabelSmoothing = 0.1,
            Brightness = 0.1,
            Contrast = 0.15,
        });

    // ---- the write-ups' own training setups (docs/writeups.md; bench/writeups.sh runs them) ----
    // Each restates what its write-up trained with; where the write-up leaves a value out, the usual one is chosen
    // and the summary says so. What every one of them shares with the toolkit rather than with its write-up: 5,000 of
    // the 50,000 training images are held out for validation (the write-ups watched the test set itself, every epoch),
    // the test accuracy is measured once, with the checkpoint best on validation, and inputs are normalised with
    // CIFAR-10's mean and standard deviation.

    /// <summary>
    /// The PyTorch CIFAR-10 tutorial's training ("Training a Classifier",
    /// https://pytorch.org/tutorials/beginner/blitz/cifar10_tutorial.html): batch 4, SGD lr 0.001 with momentum 0.9,
    /// no weight decay, a constant rate, 2 epochs, no augmentation. The write-up of the `tutorial` network
    /// (2, 3 and 4 conv blocks) names "an optimizer" and cross-entropy but not their values, which are the tutorial's.
    /// </summary>
    public static Recipe PytorchTutorial { get; } = new("pytorch-tutorial",
        "the PyTorch CIFAR-10 tutorial's training (pytorch.org/tutorials/beginner/blitz/cifar10_tutorial; for `tutorial`): 2 epochs of batch 4, SGD lr 0.001 momentum 0.9, no decay, constant rate, no augmentation",
        new TrainConfig
        {
            Recipe = "pytorch-tutorial",
            Epochs = 2,
            BatchSize = 4,
            Optimizer = OptimizerKind.Sgd,
            LearningRate = 0.001,
            Momentum = 0.9,
            WeightDecay = 0,
            Schedule = ScheduleKind.Constant,
            RandomCrop = false,
            HorizontalFlip = false,
        });

    /// <summary>
    /// The write-up of `simple` (54%), `deep` (69%) and a torchvision ResNet-18 (71%), "Convolutional NN for CIFAR10
    /// image classification" (the source Models/SimpleNet.cs and DeepNet.cs cite): "mini-batch
    /// gradient descent" and "SGD with a learning rate scheduler", values not stated. Its ResNet-18 section states
    /// the schedule of the same notebook (8 epochs, the rate down to 0.001 after the 4th), so: SGD lr 0.01 (the
    /// usual, and ten times the 0.001 it decays to) with the usual momentum 0.9, no weight decay, batch 64 (usual),
    /// ×0.1 after epoch 4, 8 epochs; no augmentation (none mentioned).
    /// </summary>
    public static Recipe SimpleDeepWriteup { get; } = new("simple-deep-writeup",
        "the write-up \"Convolutional NN for CIFAR10 image classification\" (simple 54%, deep 69%): 8 epochs of batch 64, SGD lr 0.01 momentum 0.9 (usual values: not stated), lr x0.1 after epoch 4, no augmentation",
        new TrainConfig
        {
            Recipe = "simple-deep-writeup",
            Epochs = 8,
            BatchSize = 64,
            Optimizer = OptimizerKind.Sgd,
            LearningRate = 0.01,
            Momentum = 0.9,
            WeightDecay = 0,
            Schedule = ScheduleKind.Step,
            StepEpochs = 4,
            Gamma = 0.1,
            RandomCrop = false,
            HorizontalFlip = false,
        });

    /// <summary>
    /// The same write-up's torchvision ResNet-18 trained from scratch (`resnet18-imagenet`, 71% after 8 epochs): "after
    /// the 4th epoch the learning rate decreases to 0.001" under the notebook's custom scheduler. The rest is
    /// <see cref="SimpleDeepWriteup"/>'s choices, since the write-up trains all three networks in one notebook.
    /// </summary>
    public static Recipe ResNet18Writeup { get; } = new("resnet18-writeup",
        "the \"Convolutional NN for CIFAR10\" write-up's torchvision ResNet-18 from scratch (71% after 8 epochs): 8 epochs of batch 64, SGD lr 0.01 momentum 0.9 (usual: not stated), lr 0.001 after epoch 4, no augmentation",
        SimpleDeepWriteup.Defaults with { Recipe = "resnet18-writeup" });

    /// <summary>
    /// The VGG16 write-up, "CIFAR10 Classification" (ImageClassification.py; torch 1.7): Adam lr 1e-3 (no weight decay), MultiStepLR
    /// milestones (75, 150) with γ 0.5, batch 64, random horizontal flips only, 100 epochs. Its loop calls
    /// <c>scheduler.step(epoch)</c> at the start of epoch 1..100, so the 75th epoch already trains at 5e-4: that is
    /// 0-based epoch 74 here, where a milestone m decays the rate from 0-based epoch m on (milestone 150 is past the
    /// run, kept as written). Its inputs were not normalised (ToTensor only); batch norm follows the first conv.
    /// </summary>
    public static Recipe Vgg16Writeup { get; } = new("vgg16-writeup",
        "the VGG16 write-up \"CIFAR10 Classification\" (ImageClassification.py): 100 epochs of batch 64, Adam lr 1e-3, MultiStepLR (75, 150; gamma 0.5, stepped as it steps it), flips only",
        new TrainConfig
        {
            Recipe = "vgg16-writeup",
            Epochs = 100,
            BatchSize = 64,
            Optimizer = OptimizerKind.Adam,
            LearningRate = 1e-3,
            WeightDecay = 0,
            Schedule = ScheduleKind.Multistep,
            Milestones = [74, 149],
            Gamma = 0.5,
            RandomCrop = false,
            HorizontalFlip = true,
        });

    /// <summary>
    /// The wide 6-conv network's write-up, "Image Classification with Cifar 10" (its code a gist, 97harsh/0818e110cbbf068cf128e56dadf07d36) gives its layers, no accuracy and no
    /// training values; its tips are to watch the validation metric and to start from a small learning rate (1e-5)
    /// and raise it while training is too slow. Chosen as usual: Adam at its usual 1e-3, constant, batch 64, random
    /// flips, 10 epochs, validation every epoch.
    /// </summary>
    public static Recipe WideWriteup { get; } = new("wide-writeup",
        "the wide network's write-up \"Image Classification with Cifar 10\" (gist 97harsh/0818e110cbbf068cf128e56dadf07d36; no values stated, usual ones chosen): 10 epochs of batch 64, Adam lr 1e-3, constant rate, flips",
        new TrainConfig
        {
            Recipe = "wide-writeup",
            Epochs = 10,
            BatchSize = 64,
            Optimizer = OptimizerKind.Adam,
            LearningRate = 1e-3,
            WeightDecay = 0,
            Schedule = ScheduleKind.Constant,
            RandomCrop = false,
            HorizontalFlip = true,
        });

    /// <summary>The write-ups' recipes, in the order docs/writeups.md shows them.</summary>
    public static IReadOnlyList<Recipe> Writeups { get; } = [PytorchTutorial, SimpleDeepWriteup, ResNet18Writeup, Vgg16Writeup, WideWriteup];

    // ---- the write-ups' networks' own defaults: this toolkit's best recipe for each within 15 minutes on 2 cores ----
    // The classic recipe's optimizer on a one-cycle schedule (simple's and tutorial's: a linear one), its epochs cut to
    // what fits the budget at the network's measured step rate (bench/run.sh), or to what reaches the write-up's figure
    // soonest (resnet18-imagenet's and deep's, which also drop the crops); each chosen from short runs (docs/defaults.md
    // keeps those that changed a choice).

    /// <summary>SGD with momentum 0.9 over <paramref name="epochs"/> epochs on <paramref name="schedule"/> (one cycle unless
    /// told), crops and flips, the classic weight decay 5e-4. Plain momentum, not Nesterov's: the first short runs behind
    /// these recipes used Nesterov's, which changes little, but would make `--optimizer adam` on these networks an
    /// error until `--nesterov false`.</summary>
    static TrainConfig Sgd(string name, int epochs, int batchSize, double peakLearningRate, double labelSmoothing,
                           ScheduleKind schedule = ScheduleKind.OneCycle, double warmupEpochs = 0) => new()
    {
        Recipe = name,
        Epochs = epochs,
        BatchSize = batchSize,
        Optimizer = OptimizerKind.Sgd,
        LearningRate = peakLearningRate,
        Momentum = 0.9,
        WeightDecay = 5e-4,
        Schedule = schedule,
        WarmupEpochs = warmupEpochs,
        LabelSmoothing = labelSmoothing,
    };

    /// <summary>`simple`'s default: 30 epochs of a few seconds each. A short warm-up and a linear decay, not a one-cycle:
    /// the one-cycle's slow start held this network (it has no batch norm) under the write-up's figure for longer than
    /// the write-up's own recipe took (docs/defaults.md).</summary>
    public static Recipe SimpleBest { get; } = new("simple-best",
        "simple's default (this toolkit's best): 30 epochs of batch 64, SGD lr 0.02 momentum 0.9 (0.2-epoch warm-up, then linear to 0), wd 5e-4, crop 4 + flip",
        Sgd("simple-best", epochs: 30, batchSize: 64, peakLearningRate: 0.02, labelSmoothing: 0, schedule: ScheduleKind.Linear, warmupEpochs: 0.2));

    /// <summary>`tutorial`'s default: `simple-best` over 10 epochs. With the classic recipe (batch 128, lr 0.1, cosine)
    /// the network reached the accuracy it shares with the PyTorch peer of the tutorial's recipe later than that peer at
    /// depths 2 and 3, and ended 3 to 6 points lower (docs/defaults.md).</summary>
    public static Recipe TutorialBest { get; } = new("tutorial-best",
        "tutorial's default (this toolkit's best): 10 epochs of batch 64, SGD lr 0.02 momentum 0.9 (0.2-epoch warm-up, then linear to 0), wd 5e-4, crop 4 + flip",
        SimpleBest.Defaults with { Recipe = "tutorial-best", Epochs = 10 });

    /// <summary>`deep`'s default: 7 epochs of batch 128 on flipped images, without the network's dropout. In runs this
    /// short the network underfits (its training accuracy stays under its validation accuracy): the dropout and the
    /// crops only slowed it, and 12 epochs of batch 256 with both reached the write-up's 69% later than the PyTorch
    /// peer of the write-up's recipe (docs/defaults.md).</summary>
    public static Recipe DeepBest { get; } = new("deep-best",
        "deep's default (this toolkit's best): 7 epochs of batch 128, SGD one-cycle to lr 0.035, wd 5e-4, label smoothing 0.1, flips only, no dropout",
        Sgd("deep-best", epochs: 7, batchSize: 128, peakLearningRate: 0.035, labelSmoothing: 0.1) with { RandomCrop = false, Dropout = 0 });

    /// <summary>`resnet18-imagenet`'s default: 6 epochs of batch 128 on flipped images only. Ten epochs of batch 256 with
    /// crops ended higher but reached the write-up's 71% only in their last third, later than the PyTorch peer of the
    /// write-up's recipe; without crops this network fits that much sooner (docs/defaults.md).</summary>
    public static Recipe ResNet18ImageNetBest { get; } = new("resnet18-imagenet-best",
        "resnet18-imagenet's default (this toolkit's best): 6 epochs of batch 128, SGD one-cycle to lr 0.1, wd 5e-4, label smoothing 0.1, flips only",
        Sgd("resnet18-imagenet-best", epochs: 6, batchSize: 128, peakLearningRate: 0.1, labelSmoothing: 0.1) with { RandomCrop = false });

    /// <summary>`vgg16`'s default: 3 epochs (its write-up states no accuracy to reach).</summary>
    public static Recipe Vgg16Best { get; } = new("vgg16-best",
        "vgg16's default (this toolkit's best within 15 min on 2 cores): 3 epochs of batch 128, SGD one-cycle to lr 0.1, wd 5e-4, label smoothing 0.1, crop 4 + flip",
        Sgd("vgg16-best", epochs: 3, batchSize: 128, peakLearningRate: 0.1, labelSmoothing: 0.1));

    /// <summary>`wide`'s default: 3 epochs, what fits 15 minutes (its write-up reports no accuracy). Peak lr 0.03: at 0.1
    /// the flat stack diverged and ended at chance (docs/defaults.md).</summary>
    public static Recipe WideBest { get; } = new("wide-best",
        "wide's default (this toolkit's best within 15 min on 2 cores): 3 epochs of batch 128, SGD one-cycle to lr 0.03, wd 5e-4, label smoothing 0.1, crop 4 + flip",
        Sgd("wide-best", epochs: 3, batchSize: 128, peakLearningRate: 0.03, labelSmoothing: 0.1));

    /// <summary>The defaults of the write-ups' networks (<see cref="Models.ModelInfo.DefaultRecipe"/>).</summary>
    public static IReadOnlyList<Recipe> NetworkDefaults { get; } = [TutorialBest, SimpleBest, DeepBest, ResNet18ImageNetBest, Vgg16Best, WideBest];

    /// <summary>Every recipe, in the order help texts list them.</summary>
    public static IReadOnlyList<Recipe> All { get; } = [Airbench94, Classic, Muon, .. Writeups, .. NetworkDefaults];

    /// <summary>The recipes' names, comma-separated (for messages).</summary>
    public static string Names => string.Join(", ", All.Select(r => r.Name));

    /// <summary>The recipe called <paramref name="name"/> (ignoring case); an unknown name is a <see cref="ConfigException"/> that lists the recipes.</summary>
    public static Recipe Get(string name) =>
        All.FirstOrDefault(r => r.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ConfigException($"unknown recipe '{name}'; choose one of: {Names}");
}
