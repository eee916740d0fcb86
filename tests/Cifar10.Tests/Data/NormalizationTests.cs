using Cifar10.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Data;

public class NormalizationTests
{
    [Fact]
    public void NormalizeMatchesTheFormula()
    {
        using var images = InMemoryData.RandomImages(2, seed: 1, height: 4, width: 4);
        using var normalized = Normalization.Cifar10.Normalize(images);

        Assert.Equal(ScalarType.Float32, normalized.dtype);
        Assert.Equal(images.shape, normalized.shape);
        var input = images.data<byte>().ToArray();
        var output = normalized.data<float>().ToArray();
        for (int i = 0; i < input.Length; i++)
        {
            int channel = i / 16 % 3;
            double expected = (input[i] / 255.0 - Normalization.Cifar10.Mean[channel]) / Normalization.Cifar10.Std[channel];
            Assert.Equal(expected, output[i], 1e-5);
        }
    }

    [Fact]
    public void ConstantsAreTheUsualCifarStatistics()
    {
        Assert.Equal(new[] { 0.4914f, 0.4822f, 0.4465f }, Normalization.Cifar10.Mean);
        Assert.Equal(new[] { 0.2470f, 0.2435f, 0.2616f }, Normalization.Cifar10.Std);
    }

    [Fact]
    public void DenormalizeInvertsNormalize()
    {
        using var images = InMemoryData.RandomImages(3, seed: 2);
        using var normalized = Normalization.Cifar10.Normalize(images);
        using var restored = Normalization.Cifar10.Denormalize(normalized);
        using var expected = images.to_type(ScalarType.Float32).div(255f);
        Assert.True(restored.allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void SingleImageWorksToo()
    {
        using var images = InMemoryData.RandomImages(1, seed: 3);
        using var image = images[0];
        using var one = Normalization.Cifar10.Normalize(image);
        using var batch = Normalization.Cifar10.Normalize(images);
        using var first = batch[0];
        Assert.True(one.Equals(first));
    }
}
