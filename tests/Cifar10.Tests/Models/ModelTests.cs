using Cifar10.Models;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Models;

public class ModelTests
{
    // Exact counts printed by `/usr/bin/python3 bench/pytorch/models.py --counts` (PyTorch 1.13 peers).
    [Theory]
    [InlineData("simple", 3, 80_090)]
    [InlineData("deep", 3, 453_242)]
    [InlineData("wide", 3, 2_211_338)]
    [InlineData("tutorial", 2, 25_578)]
    [InlineData("tutorial", 3, 33_834)]
    [InlineData("tutorial", 4, 102_570)]
    [InlineData("vgg16", 3, 14_728_266)]
    [InlineData("resnet18", 3, 11_173_962)]
    [InlineData("resnet18-imagenet", 3, 11_181_642)]
    public void ParameterCountEqualsPyTorch(string name, int depth, long expected)
    {
        using var model = ModelCatalog.Create(name, new ModelOptions(Depth: depth));

        var (total, trainable) = ModelSummary.CountParameters(model);

        Assert.Equal(expected, total);
        Assert.Equal(expected, trainable);
        // The same figure straight from TorchSharp, so a bug in CountParameters cannot hide a wrong model.
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    public static TheoryData<string> Names() => new(ModelCatalog.All.Select(m => m.Name));

    /// <summary>libtorch 2.10 pads NCHW activations to 16-channel blocks on an AVX-512 CPU and its convolutions read
    /// the padding unwritten (NaN logits at random, see MemoryFormat.ChannelsLast): a convolution whose input
    /// channels are not a multiple of 16 (the image's 3 aside, which oneDNN takes unblocked) must see NHWC input.</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void ConvolutionsWithChannelsOffTheSixteenBlockSeeChannelsLastInput(string name)
    {
        torch.manual_seed(1);
        using var model = ModelCatalog.Create(name, new ModelOptions());
        var offending = new List<string>();
        var hooks = model.modules().OfType<Conv2d>().Where(conv => conv.in_channels > 3 && conv.in_channels % 16 != 0)
            .Select(conv => conv.register_forward_pre_hook((m, input) =>
            {
                if (input.stride(1) != 1) offending.Add($"{((Conv2d)m).in_channels}-channel conv with strides [{string.Join(", ", input.stride())}]");
                return null!; // leave the input unchanged
            }))
            .ToList();
        model.eval();
        using (no_grad())
        using (var images = randn(2, 3, 32, 32))
            model.call(images).Dispose();
        hooks.ForEach(h => h.remove());
        Assert.Empty(offending);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MapsABatchOfTwoToLogits(string name)
    {
        torch.manual_seed(1);
        using var model = ModelCatalog.Create(name, new ModelOptions());
        using var scope = NewDisposeScope();
        var input = randn(2, 3, 32, 32);

        var output = model.call(input);

        Assert.Equal(new long[] { 2, 10 }, output.shape);
        Assert.Equal(ScalarType.Float32, output.dtype);
        Assert.True(output.isfinite().all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void NumberOfClassesIsConfigurable(string name)
    {
        using var model = ModelCatalog.Create(name, new ModelOptions(NumClasses: 7));
        model.eval();
        using var scope = NewDisposeScope();

        var output = model.call(zeros(2, 3, 32, 32));

        Assert.Equal(new long[] { 2, 7 }, output.shape);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void TutorialDepthChangesTheNumberOfConvBlocks(int depth)
    {
        using var model = new TutorialNet(depth: depth);

        Assert.Equal(depth, model.Layers.OfType<Conv2d>().Count());
        Assert.Equal(depth, model.Layers.OfType<MaxPool2d>().Count());
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("deep")]
    public void BackwardPassReachesEveryParameter(string name)
    {
        torch.manual_seed(2);
        using var model = ModelCatalog.Create(name, new ModelOptions());
        model.train();
        using var scope = NewDisposeScope();
        var input = randn(2, 3, 32, 32);
        var target = tensor(new long[] { 3, 7 });

        var loss = nn.functional.cross_entropy(model.call(input), target);
        loss.backward();

        foreach (var (paramName, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{paramName} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0f, $"{paramName} has an all-zero gradient");
        }
    }

    [Fact]
    public void WideLayersAreNamedLikeAPyTorchSequential()
    {
        using var model = ModelCatalog.Create("wide", new ModelOptions());

        var names = model.named_children().Select(c => c.name).ToArray();

        Assert.Equal(Enumerable.Range(0, 23).Select(i => i.ToString()), names);
        Assert.IsType<Conv2d>(model.named_children().First().module);
        Assert.IsType<Linear>(model.named_children().Last().module);
        Assert.Contains("22.weight", model.state_dict().Keys);
    }

    [Fact]
    public void FastParameterCountEqualsPyTorchWithTheFrozenOnesUntrainable()
    {
        using var model = ModelCatalog.Create("fast", new ModelOptions());
        var (total, trainable) = ModelSummary.CountParameters(model);
        Assert.Equal(1_972_792, total);
        // Frozen: the 24×3×2×2 whitening filters and the six batch-norm scales (64+64+256·4).
        Assert.Equal(1_972_792 - 288 - 1_152, trainable);
    }

    [Theory]
    [InlineData("fast", "whiten.weight")]
    [InlineData("fast", "block1.norm1.running_mean")]
    [InlineData("fast", "block3.conv2.weight")]
    [InlineData("fast", "head.weight")]
    [InlineData("resnet18", "layer2.0.shortcut.0.weight")]
    [InlineData("resnet18", "linear.bias")]
    [InlineData("resnet18-imagenet", "layer3.0.downsample.1.running_var")]
    [InlineData("resnet18-imagenet", "fc.weight")]
    [InlineData("vgg16", "features.41.running_mean")]
    [InlineData("vgg16", "classifier.weight")]
    [InlineData("deep", "bn_fc1.running_mean")]
    [InlineData("simple", "fc3.bias")]
    public void StateDictUsesThePyTorchNames(string name, string key)
    {
        using var model = ModelCatalog.Create(name, new ModelOptions());

        Assert.Contains(key, model.state_dict().Keys);
    }

    [Fact]
    public void IdentityBlocksHaveNoProjection()
    {
        using var model = ModelCatalog.Create("resnet18-imagenet", new ModelOptions());

        var keys = model.state_dict().Keys;

        Assert.DoesNotContain(keys, k => k.StartsWith("layer1.") && k.Contains("downsample"));
        Assert.DoesNotContain(keys, k => k.StartsWith("layer2.1.downsample"));
    }

    [Fact]
    public void DeepBatchNormsHaveNoAffineParameters()
    {
        using var model = ModelCatalog.Create("deep", new ModelOptions());

        var names = model.named_parameters().Select(p => p.name).ToArray();

        Assert.DoesNotContain(names, n => n.StartsWith("bn"));
        Assert.Contains("bn1.running_mean", model.state_dict().Keys);
    }

    [Fact]
    public void DropoutOptionReachesTheDropoutLayers()
    {
        using var wide = ModelCatalog.Create("wide", new ModelOptions(Dropout: 0.25));
        using var deep = ModelCatalog.Create("deep", new ModelOptions(Dropout: 0.2));
        using var deepDefault = ModelCatalog.Create("deep", new ModelOptions());
        using var wideDefault = ModelCatalog.Create("wide", new ModelOptions());

        Assert.Equal([0.25], DropoutRates(wide));
        Assert.Equal([0.2, 0.2], DropoutRates(deep));
        Assert.Equal([0.3, 0.1], DropoutRates(deepDefault));
        Assert.Equal([0.5], DropoutRates(wideDefault));
    }

    [Fact]
    public void Vgg16TakesADropoutBeforeItsClassifierWithoutChangingItsWeights()
    {
        using var plain = ModelCatalog.Create("vgg16", new ModelOptions());
        using var dropped = ModelCatalog.Create("vgg16", new ModelOptions(Dropout: 0.4));

        Assert.Empty(DropoutRates(plain)); // kuangliu's network, as before
        Assert.Equal([0.4], DropoutRates(dropped));
        Assert.Equal(plain.state_dict().Keys, dropped.state_dict().Keys); // its checkpoints load either way
        Assert.Equal(0.5, Configs.For("vgg16", ("dropout", "0.5")).Dropout); // `train --model vgg16 --dropout 0.5`
    }

    [Fact]
    public void SaveAndLoadRoundTripTheWeights()
    {
        torch.manual_seed(3);
        var path = Path.Combine(Path.GetTempPath(), $"cifar10-models-{Guid.NewGuid():N}.bin");
        try
        {
            using var original = ModelCatalog.Create("deep", new ModelOptions());
            using var restored = ModelCatalog.Create("deep", new ModelOptions());
            using var scope = NewDisposeScope();
            // One training-mode pass so the BatchNorm running statistics (buffers) differ from a fresh model.
            original.train();
            original.call(randn(4, 3, 32, 32));
            original.save(path);

            restored.load(path);
            original.eval();
            restored.eval();
            var input = randn(2, 3, 32, 32);

            Assert.True(original.call(input).allclose(restored.call(input)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double[] DropoutRates(nn.Module model) =>
        model.modules().OfType<Dropout>().Select(d => d.p).ToArray();
}
