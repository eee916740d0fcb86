using Cifar10.Models;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Models;

public class LeanMaxPoolTests
{
    /// <summary>The output and the input gradient libtorch's max_pool2d gives, for one input.</summary>
    static (Tensor Output, Tensor Gradient) Pool(Tensor input, long kernel, bool lean)
    {
        var x = input.detach().requires_grad_(true);
        var output = lean ? LeanMaxPool.Apply(x, kernel) : nn.functional.max_pool2d(x, kernel_size: kernel);
        // A weighting that differs per output element, so a gradient routed to the wrong place shows.
        var weights = arange(output.numel(), dtype: float32).view(output.shape).sin();
        (output * weights).sum().backward();
        return (output.detach(), x.grad!.clone());
    }

    [Theory]
    [InlineData(2, 31, false)] // odd size: the last row and column fall outside every window
    [InlineData(2, 16, true)]  // channels-last, as the fast network runs
    [InlineData(3, 9, false)]
    public void GivesTheSameOutputAndGradientAsMaxPool(long kernel, long size, bool channelsLast)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var input = randn(4, 5, size, size);
        // Ties: a quarter of the values rounded to a few levels, so windows hold equal maxima.
        input = where(rand(input.shape) < 0.25, input.round(), input);
        if (channelsLast) input = input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

        var (expected, expectedGradient) = Pool(input, kernel, lean: false);
        var (actual, actualGradient) = Pool(input, kernel, lean: true);

        Assert.True(actual.eq(expected).all().item<bool>());
        Assert.True(actualGradient.eq(expectedGradient).all().item<bool>());
    }

    [Fact]
    public void WithoutGradientsIsPlainMaxPool()
    {
        using var scope = NewDisposeScope();
        var input = randn(2, 3, 8, 8);
        using (no_grad())
            Assert.True(LeanMaxPool.Apply(input.requires_grad_(true), 2).eq(nn.functional.max_pool2d(input, kernel_size: 2)).all().item<bool>());
        Assert.False(LeanMaxPool.Apply(randn(2, 3, 8, 8), 2).requires_grad);
    }
}
