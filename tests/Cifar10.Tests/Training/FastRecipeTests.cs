using Cifar10.Data;
using Cifar10.Models;
using Cifar10.Runtime;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

public class FastRecipeTests
{
    [Fact]
    public void LookaheadUpdateLeavesNoTensorAliveOutsideADisposeScope()
    {
        using var model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2));
        using var averaging = new Lookahead(model);
        long before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        averaging.Update(decay: 0.5);
        averaging.Update(decay: 1); // the trainer's end-of-epoch call, made outside any step's scope
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void LookaheadUpdateMovesTheWeightsToTheAverage()
    {
        using var scope = NewDisposeScope();
        using var model = nn.Linear(4, 3);
        var start = model.weight!.detach().clone();
        using var averaging = new Lookahead(model);
        using (no_grad()) model.weight!.add_(1.0);
        var moved = model.weight!.detach().clone();

        averaging.Update(decay: 0.25);
        // average = 0.25·start + 0.75·moved, and the network now holds it.
        Assert.True(model.weight!.detach().allclose(start * 0.25 + moved * 0.75, rtol: 1e-6, atol: 1e-6));

        using (no_grad()) model.weight!.add_(2.0);
        averaging.Update(decay: 1); // decay 1 only copies the average back
        Assert.True(model.weight!.detach().allclose(start * 0.25 + moved * 0.75, rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void LookaheadAlsoAveragesBatchNormStatisticsButNotCounters()
    {
        using var scope = NewDisposeScope();
        using var norm = nn.BatchNorm2d(2);
        using var averaging = new Lookahead(norm);
        norm.train();
        norm.forward(randn(4, 2, 3, 3) + 5);
        var runningMean = norm.running_mean!.detach().clone();
        averaging.Update(decay: 0.5);
        Assert.True(norm.running_mean!.detach().allclose(runningMean * 0.5, rtol: 1e-6, atol: 1e-6));
        Assert.Equal(1, norm.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void LookaheadScheduleFollowsAirbench()
    {
        Assert.Equal(3, Lookahead.StartEpochIndex(10));
        Assert.False(Lookahead.UpdatesAt(150, epochIndex: 2, epochs: 10)); // before the start epoch
        Assert.True(Lookahead.UpdatesAt(150, epochIndex: 3, epochs: 10));
        Assert.False(Lookahead.UpdatesAt(151, epochIndex: 3, epochs: 10)); // every 5 steps only
        Assert.Equal(Math.Pow(0.95, 5) * Math.Pow(0.5, 3), Lookahead.DecayAt(240, 480), 12);
        Assert.Equal(Math.Pow(0.95, 5), Lookahead.DecayAt(480, 480), 12);
        // 49 steps per epoch: epochs 1–3 (indices 0–2) have no averaging, epoch 4 creates it.
        Assert.False(Lookahead.IsActiveAfter(3, 49, 10));
        Assert.True(Lookahead.IsActiveAfter(4, 49, 10));
        // With 2 steps per epoch epoch 4 runs steps 7–8, none a multiple of 5: still no average.
        Assert.False(Lookahead.IsActiveAfter(4, 2, 10));
        Assert.True(Lookahead.IsActiveAfter(5, 2, 10));
    }

    [Fact]
    public void TriangleRisesFromOneFifthToThePeakThenFallsToSevenPercent()
    {
        var config = Configs.Fast with { Epochs = 10 };
        var schedule = new LearningRateSchedule(config, stepsPerEpoch: 100);
        double peak = config.LearningRate;
        Assert.Equal(0.2 * peak, schedule.At(0), 12);
        Assert.Equal(peak, schedule.At(230), 12);
        Assert.Equal(0.6 * peak, schedule.At(115), 12);
        Assert.True(schedule.At(229) < peak && schedule.At(231) < peak);
        Assert.Equal(peak + (0.07 * peak - peak) * (999 - 230) / 770.0, schedule.At(999), 12);
    }

    [Fact]
    public void AlternatingFlipShowsEveryImageBothWaysOverTwoEpochs()
    {
        using var scope = NewDisposeScope();
        var batch = randint(0, 256, [32, 3, 4, 4], dtype: uint8);
        var first = Augmentation.FirstEpochFlips(32, new Generator(7));
        var epoch1 = Augmentation.AlternatingFlip(batch, first, epoch: 1);
        var epoch2 = Augmentation.AlternatingFlip(batch, first, epoch: 2);
        var epoch3 = Augmentation.AlternatingFlip(batch, first, epoch: 3);
        var flippedIn1 = epoch1.ne(batch).flatten(1).any(1);
        var flippedIn2 = epoch2.ne(batch).flatten(1).any(1);
        Assert.True(flippedIn1.logical_xor(flippedIn2).all().item<bool>()); // exactly one of the two epochs
        Assert.True(epoch3.Same(epoch1));
        Assert.InRange(flippedIn1.sum().item<long>(), 6, 26); // the first epoch's choice is random
        for (int i = 0; i < 32; i++)
        {
            var expected = flippedIn1[i].item<bool>() ? batch[i].flip(2) : batch[i];
            Assert.True(epoch1[i].Same(expected));
        }
    }

    [Fact]
    public void ReflectCropShiftsWithMirroredBorders()
    {
        using var scope = NewDisposeScope();
        var batch = randint(0, 256, [64, 3, 8, 8], dtype: uint8);
        var cropped = Augmentation.RandomCrop(batch, 2, new Generator(3), PadMode.Reflect);
        Assert.Equal(ScalarType.Byte, cropped.dtype);
        var padded = nn.functional.pad(batch.to(float32), [2, 2, 2, 2], PaddingModes.Reflect).to(uint8);
        for (int i = 0; i < 64; i++)
        {
            bool found = false;
            for (int top = 0; top <= 4 && !found; top++)
                for (int left = 0; left <= 4 && !found; left++)
                    found = padded[i].narrow(1, top, 8).narrow(2, left, 8).Same(cropped[i]);
            Assert.True(found, $"image {i} is not a window of its reflect-padded self");
        }
    }

    [Fact]
    public void NormBiasesGetTheScaledRateAndTheSameDecayStep()
    {
        using var model = new FastNet();
        var config = Configs.Fast;
        using var optimizer = OptimizerFactory.Create(config, model);
        var groups = ((TorchOptimizer)optimizer).Inner.ParamGroups.Cast<TorchSharp.Modules.SGD.ParamGroup>().ToList();
        Assert.Equal(2, groups.Count);
        Assert.Equal(6, groups[0].Parameters.Count()); // the six batch-norm biases
        optimizer.SetLearningRate(0.5);
        Assert.Equal(0.5 * 64, groups[0].LearningRate, 12);
        Assert.Equal(0.5, groups[1].LearningRate, 12);
        var biasOptions = (TorchSharp.Modules.SGD.Options)groups[0].Options;
        var otherOptions = (TorchSharp.Modules.SGD.Options)groups[1].Options;
        Assert.Equal(groups[1].LearningRate * otherOptions.weight_decay!.Value,
                     groups[0].LearningRate * biasOptions.weight_decay!.Value, 12);
        // Frozen parameters are not handed to the optimizer at all.
        int trainable = model.parameters().Count(p => p.requires_grad);
        Assert.Equal(trainable, groups.Sum(g => g.Parameters.Count()));
    }

    [Fact]
    public void FastIsTheDefaultModelWithTheMuonRecipeAndOtherNetworksKeepTheClassicDefaults()
    {
        var fast = TrainSettings.Resolve([]);
        Assert.Equal("fast", fast.Model);
        Assert.Equal("muon", fast.Recipe);
        Assert.Equal(Recipes.Muon.Defaults with { Model = "fast" }, fast);
        Assert.Equal((OptimizerKind.Muon, 2000, 0.6), (fast.Optimizer, fast.BatchSize, fast.TtaConfidence));
        Assert.Equal((0.1, 0.1, 0.15), (fast.LabelSmoothing, fast.Brightness, fast.Contrast)); // the second version (docs/results.md)
        Assert.Equal((9, 24, 4), (fast.Epochs, fast.LowRes, fast.LowResEpochs)); // the third version (docs/results.md)
        Assert.True(!fast.Lookahead && fast.AlternatingFlip && fast.TestTta);
        var classic = Configs.For("ResNet18");
        Assert.Equal("resnet18", classic.Model);
        Assert.Equal("classic", classic.Recipe);
        Assert.Equal(new TrainConfig().BatchSize, classic.BatchSize);
    }

    [Fact]
    public void Bf16IsOnlyForNetworksThatDeclareIt()
    {
        // A network of the user's own that does not declare IMixedPrecision stays in fp32.
        var plain = ModelCatalog.Register(ModelInfo.For("fp32-only-net", o => new TutorialNetWithoutBf16(o.NumClasses)));
        Assert.True(ModelCatalog.Get("resnet18").SupportsBf16);
        Assert.False(plain.SupportsBf16);
        Assert.Equal(PrecisionMode.Bf16, Precision.Resolve(PrecisionMode.Bf16, ModelCatalog.Get("fast")));
        Assert.Equal(PrecisionMode.Bf16, Precision.Resolve(PrecisionMode.Auto, ModelCatalog.Get("resnet18"), Zen5));
        Assert.Equal(PrecisionMode.Fp32, Precision.Resolve(PrecisionMode.Auto, plain, Zen5));
        Assert.Equal(PrecisionMode.Bf16, Precision.Resolve(PrecisionMode.Auto, ModelCatalog.Get("tutorial"), Zen5));
        // A network that computes in bf16 but measured slower in it: auto keeps it in fp32, bf16 when asked for.
        var slowInBf16 = ModelCatalog.Register(ModelInfo.For("slow-in-bf16-net", o => new TutorialNet(o.NumClasses)) with { PrefersBf16 = false });
        Assert.Equal(PrecisionMode.Fp32, Precision.Resolve(PrecisionMode.Auto, slowInBf16, Zen5));
        Assert.Equal(PrecisionMode.Bf16, Precision.Resolve(PrecisionMode.Bf16, slowInBf16, Zen5));
        Assert.Throws<ConfigException>(() => Precision.Resolve(PrecisionMode.Bf16, plain));
        Assert.Throws<ConfigException>(() => Configs.For("fp32-only-net", ("precision", "bf16")));
        Assert.Throws<ConfigException>(() => Configs.For("fast", ("precision", "fp16")));
    }

    // /proc/cpuinfo's words for three CPUs the project's VMs have had.
    static readonly CpuInfo Zen5 = new("AMD EPYC", "AuthenticAMD", "26", "2", new HashSet<string> { "avx2", "avx512f", "avx512_bf16" });
    static readonly CpuInfo SapphireRapidsWithoutAmx = new("Intel(R) Xeon(R) Processor", "GenuineIntel", "6", "207",
                                                             new HashSet<string> { "avx2", "avx512f", "avx512_bf16" });
    static readonly CpuInfo Milan = new("AMD EPYC", "AuthenticAMD", "25", "1", new HashSet<string> { "avx2" });

    [Fact]
    public void AutoPrecisionIsBf16OnlyWhereTheCpuComputesItFast()
    {
        var fast = ModelCatalog.Get("fast");
        Assert.Equal(PrecisionMode.Bf16, Precision.Resolve(PrecisionMode.Auto, fast, Zen5));
        Assert.Equal(PrecisionMode.Fp32, Precision.Resolve(PrecisionMode.Auto, fast, SapphireRapidsWithoutAmx));
        Assert.Equal(PrecisionMode.Bf16, Precision.Resolve(PrecisionMode.Auto, fast,
            SapphireRapidsWithoutAmx with { Flags = new HashSet<string>(SapphireRapidsWithoutAmx.Flags) { "amx_bf16" } }));
        Assert.Equal(PrecisionMode.Fp32, Precision.Resolve(PrecisionMode.Auto, fast, Milan));
        Assert.Equal(PrecisionMode.Fp32, Precision.Resolve(PrecisionMode.Fp32, fast, Zen5)); // asked for, kept
        Assert.Equal("AMD EPYC (family 26 model 2, AVX-512 with BF16)", Zen5.Description);
        Assert.Equal("AMD EPYC (family 25 model 1, AVX2, no AVX-512)", Milan.Description);
    }

    [Fact]
    public void Bf16AskedForWhereItIsSlowIsWarnedAbout()
    {
        Assert.Null(Precision.SlowBf16Warning(PrecisionMode.Bf16, Zen5));
        Assert.Null(Precision.SlowBf16Warning(PrecisionMode.Fp32, Milan));
        // Without bf16 instructions libtorch emulates it, many times slower than fp32 (docs/benchmarks.md).
        var emulated = Precision.SlowBf16Warning(PrecisionMode.Bf16, Milan);
        Assert.StartsWith("warning: this CPU has no bf16 instructions (AMD EPYC (family 25 model 1, AVX2, no AVX-512))", emulated);
        Assert.Contains("--precision auto chooses fp32 here", emulated);
        var halfRate = Precision.SlowBf16Warning(PrecisionMode.Bf16, SapphireRapidsWithoutAmx);
        Assert.StartsWith("warning: bf16 is no faster than fp32 on this CPU", halfRate);
        Assert.Null(Precision.SlowBf16Warning(PrecisionMode.Bf16,
            SapphireRapidsWithoutAmx with { Flags = new HashSet<string>(SapphireRapidsWithoutAmx.Flags) { "amx_bf16" } }));
    }

    [Fact]
    public void ABf16CheckpointComputesInFp32OnlyWhereTheCpuHasNoBf16Instructions()
    {
        Assert.Equal(PrecisionMode.Fp32, Precision.ForInference(PrecisionMode.Bf16, Milan));
        Assert.Equal(PrecisionMode.Bf16, Precision.ForInference(PrecisionMode.Bf16, Zen5));
        Assert.Equal(PrecisionMode.Bf16, Precision.ForInference(PrecisionMode.Bf16, SapphireRapidsWithoutAmx)); // slow-ish, not emulated
        Assert.Equal(PrecisionMode.Fp32, Precision.ForInference(PrecisionMode.Fp32, Zen5));
    }

    [Fact]
    public void ACheckpointLoadsInThePrecisionItTrainedIn()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"cifar10-bf16-{Guid.NewGuid():N}");
        try
        {
            using (var model = new FastNet())
                Checkpoint.Save(folder, model, null, new CheckpointState { Model = "fast", Precision = PrecisionMode.Bf16, ClassNames = TinyData.ClassNames });
            var (loaded, state) = Checkpoint.LoadModel(folder, CPU);
            using (loaded)
            {
                Assert.Equal(PrecisionMode.Bf16, state.Precision);
                // bf16 where the CPU has bf16 instructions, fp32 where libtorch would emulate it (the test above).
                Assert.Equal(Precision.ForInference(PrecisionMode.Bf16) == PrecisionMode.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32,
                             ((FastNet)loaded).ComputeType);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>A network that does not declare <see cref="IMixedPrecision"/>: one conv and a linear layer.</summary>
sealed class TutorialNetWithoutBf16 : TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>
{
    readonly TorchSharp.Modules.Conv2d conv = TorchSharp.torch.nn.Conv2d(3, 4, 3, padding: 1);
    readonly TorchSharp.Modules.Linear head;

    public TutorialNetWithoutBf16(int classes) : base(nameof(TutorialNetWithoutBf16))
    {
        head = TorchSharp.torch.nn.Linear(4 * 32 * 32, classes);
        RegisterComponents();
    }

    public override TorchSharp.torch.Tensor forward(TorchSharp.torch.Tensor x) => head.call(conv.call(x).flatten(1));
}
