using Cifar10.Evaluation;
using Cifar10.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Models;

public class FastNetTests
{
    /// <summary>Images whose neighbouring pixels and channels are strongly correlated, as photographs' are.</summary>
    static Tensor CorrelatedImages(int count, long seed)
    {
        var generator = new Generator((ulong)seed);
        var coarse = randn([count, 1, 8, 8], generator: generator);
        var smooth = nn.functional.interpolate(coarse, size: [32, 32], mode: InterpolationMode.Bilinear, align_corners: false);
        var colour = tensor(new float[] { 1.0f, 0.8f, 0.6f }).view(1, 3, 1, 1);
        return smooth * colour + 0.3 * randn([count, 3, 32, 32], generator: generator);
    }

    [Fact]
    public void WhiteningInitMakesThePatchCovarianceTheIdentity()
    {
        using var scope = NewDisposeScope();
        var images = CorrelatedImages(200, seed: 1);
        using var net = new FastNet();
        net.InitializeWhitening(images);

        // The conv's first 12 filters applied to every 2×2 patch: a linear map of the flattened patch.
        var filters = net.WhiteningWeight.detach().reshape(FastNet.WhiteningWidth, -1);
        var patches = FastNet.Patches(images);
        var whitened = patches.matmul(filters.narrow(0, 0, FastNet.WhiteningWidth / 2).T);
        var covariance = whitened.T.matmul(whitened) / patches.shape[0];
        var identity = eye(FastNet.WhiteningWidth / 2);
        // eps (5e-4) shrinks each direction by λ/(λ+eps); these images' smallest λ is far above it.
        Assert.True(covariance.allclose(identity, rtol: 0, atol: 0.02),
                    $"max deviation from identity {(covariance - identity).abs().max().item<float>()}");
        // The other 12 filters are the negatives, so GELU sees both signs of every direction.
        Assert.True(filters.narrow(0, 12, 12).allclose(-filters.narrow(0, 0, 12)));
        // Before whitening the same patches were far from white.
        var raw = patches.T.matmul(patches) / patches.shape[0];
        Assert.False(raw.allclose(eye(12), rtol: 0, atol: 0.2));
    }

    [Fact]
    public void PatchesFollowTheConvWeightLayout()
    {
        using var scope = NewDisposeScope();
        var images = arange(2 * 3 * 4 * 4, dtype: float32).view(2, 3, 4, 4);
        var weight = randn(5, 3, 2, 2);
        var viaConv = nn.functional.conv2d(images, weight);                       // [2,5,3,3]
        var viaPatches = FastNet.Patches(images).matmul(weight.view(5, -1).T);   // [2·3·3, 5]
        Assert.True(viaConv.permute(0, 2, 3, 1).reshape(-1, 5).allclose(viaPatches, rtol: 1e-5, atol: 1e-3));
    }

    [Fact]
    public void TakesAnyImageFromNinePixelsAndTrainsThroughTheGlobalPool()
    {
        using var scope = NewDisposeScope();
        using var net = new FastNet();
        Assert.Equal(9, ((IAnyImageSize)net).SmallestImage);
        net.train();
        foreach (int side in new[] { 9, 16, 24, 32, 40 })
        {
            var x = randn(2, 3, side, side).requires_grad_(true);
            var logits = net.call(x);
            Assert.Equal(new long[] { 2, 10 }, logits.shape);
            logits.sum().backward();
            Assert.Equal(x.shape, x.grad!.shape);
        }
    }

    [Fact]
    public void FrozenParametersAreTheWhiteningWeightAndTheNormScales()
    {
        using var net = new FastNet();
        var frozen = net.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Contains("whiten.weight", frozen);
        Assert.Equal(7, frozen.Count); // whitening weight + six batch-norm scales
        Assert.All(frozen.Where(n => n != "whiten.weight"), n => Assert.EndsWith("weight", n));
        net.WhiteningBiasTrainable = false;
        Assert.False(net.named_parameters().Single(p => p.name == "whiten.bias").parameter.requires_grad);
    }

    [Fact]
    public void BlockConvsStartAsTheIdentityOnTheirInputChannels()
    {
        using var scope = NewDisposeScope();
        using var net = new FastNet();
        var weight = net.named_parameters().Single(p => p.name == "block2.conv2.weight").parameter;
        var expected = zeros(256, 256, 3, 3);
        for (int c = 0; c < 256; c++) expected[c, c, 1, 1].fill_(1);
        Assert.True(weight.detach().Same(expected));
    }

    [Fact]
    public void MirrorTranslateTtaAveragesSixWeightedViews()
    {
        using var scope = NewDisposeScope();
        var batch = randn(3, 3, 32, 32);
        var views = Evaluator.Views(batch, TestTimeAugmentation.MirrorTranslate);
        Assert.Equal(6, views.Count);
        Assert.Equal(1.0, views.Sum(v => v.Weight), 12);
        Assert.True(views[0].View.Same(batch));
        Assert.True(views[1].View.Same(batch.flip(3)));
        // Shifted one pixel down-right: pixel (y+1, x+1) of the view is pixel (y, x) of the image.
        Assert.True(views[2].View.narrow(2, 1, 31).narrow(3, 1, 31).Same(batch.narrow(2, 0, 31).narrow(3, 0, 31)));
        Assert.True(views[3].View.Same(views[2].View.flip(3)));
        Assert.True(views[4].View.narrow(2, 0, 31).narrow(3, 0, 31).Same(batch.narrow(2, 1, 31).narrow(3, 1, 31)));
        Assert.True(views[5].View.Same(views[4].View.flip(3)));

        // The probabilities are exactly the weighted mean of the views' softmaxes.
        manual_seed(2);
        using var model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10));
        var expected = zeros(3, 10);
        foreach (var (view, weight) in views) expected += model.forward(view).softmax(1) * weight;
        var actual = Evaluator.Probabilities(model, batch, TestTimeAugmentation.MirrorTranslate);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(actual.sum(1).allclose(ones(3), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void MirrorTtaAveragesTheImageAndItsMirror()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10));
        var batch = randn(2, 3, 32, 32);
        var expected = (model.forward(batch).softmax(1) + model.forward(batch.flip(3)).softmax(1)) / 2;
        Assert.True(Evaluator.Probabilities(model, batch, TestTimeAugmentation.Mirror).allclose(expected, rtol: 1e-5, atol: 1e-6));
    }
}
