using Cifar10.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Data;

public class AugmentationTests
{
    const int N = 64;

    /// <summary>Image i as [c,y,x] bytes.</summary>
    static byte[,,] Image(Tensor batch, int i)
    {
        var values = batch[i].contiguous().data<byte>().ToArray();
        int h = (int)batch.shape[2], w = (int)batch.shape[3];
        var image = new byte[3, h, w];
        Buffer.BlockCopy(values, 0, image, 0, values.Length);
        return image;
    }

    /// <summary>Reference crop: window at (top, left) of the image zero-padded by <paramref name="padding"/>, written out pixel by pixel.</summary>
    static bool IsWindow(byte[,,] original, byte[,,] cropped, int padding, int top, int left)
    {
        int h = original.GetLength(1), w = original.GetLength(2);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int sy = top + y - padding, sx = left + x - padding;
                    byte expected = sy >= 0 && sy < h && sx >= 0 && sx < w ? original[c, sy, sx] : (byte)0;
                    if (cropped[c, y, x] != expected) return false;
                }
        return true;
    }

    [Fact]
    public void OpsKeepShapeAndDtype()
    {
        using var batch = InMemoryData.RandomImages(N, seed: 1);
        using var generator = new Generator(1);
        var options = new AugmentOptions { Cutout = 8 };
        foreach (var output in new[] {
                     Augmentation.RandomCrop(batch, 4, generator), Augmentation.RandomHorizontalFlip(batch, generator),
                     Augmentation.Cutout(batch, 8, generator), Augmentation.Apply(batch, options, generator) })
            using (output)
            {
                Assert.Equal(batch.shape, output.shape);
                Assert.Equal(ScalarType.Byte, output.dtype);
            }
    }

    [Fact]
    public void CropWithoutPaddingIsIdentity()
    {
        using var batch = InMemoryData.RandomImages(N, seed: 2);
        using var generator = new Generator(2);
        using var cropped = Augmentation.RandomCrop(batch, 0, generator);
        Assert.True(cropped.Equals(batch));
    }

    [Fact]
    public void EachCropIsAShiftedWindowOfThePaddedImage()
    {
        const int padding = 4;
        using var batch = InMemoryData.RandomImages(N, seed: 3, low: 1); // no zeros, so padding is recognisable
        using var generator = new Generator(3);
        using var cropped = Augmentation.RandomCrop(batch, padding, generator);

        var offsets = new HashSet<(int, int)>();
        for (int i = 0; i < N; i++)
        {
            var original = Image(batch, i);
            var result = Image(cropped, i);
            var matches = (from top in Enumerable.Range(0, 2 * padding + 1)
                           from left in Enumerable.Range(0, 2 * padding + 1)
                           where IsWindow(original, result, padding, top, left)
                           select (top, left)).ToList();
            Assert.Single(matches);
            offsets.Add(matches[0]);
        }
        // Offsets really vary per image and reach the corners of the range over enough images.
        Assert.True(offsets.Count > 20, $"only {offsets.Count} distinct offsets");
        Assert.Contains(offsets, o => o.Item1 == 0 || o.Item2 == 0);
        Assert.Contains(offsets, o => o.Item1 == 2 * padding || o.Item2 == 2 * padding);
    }

    [Fact]
    public void FlipEitherKeepsOrMirrorsEachImage()
    {
        using var batch = InMemoryData.RandomImages(N, seed: 4);
        using var generator = new Generator(4);
        using var flipped = Augmentation.RandomHorizontalFlip(batch, generator);
        using var mirrored = batch.flip(3);
        int kept = 0, mirroredCount = 0;
        for (int i = 0; i < N; i++)
        {
            using var output = flipped[i];
            using var same = batch[i];
            using var mirror = mirrored[i];
            if (output.Equals(same)) kept++;
            else if (output.Equals(mirror)) mirroredCount++;
            else Assert.Fail($"image {i} is neither the original nor its mirror");
        }
        Assert.InRange(kept, 10, N - 10); // p = 0.5: both outcomes occur
        Assert.Equal(N, kept + mirroredCount);
    }

    [Fact]
    public void CutoutZeroesExactlyOneClippedSquarePerImage()
    {
        const int size = 12;
        using var batch = InMemoryData.RandomImages(N, seed: 5, low: 1);
        using var generator = new Generator(5);
        using var output = Augmentation.Cutout(batch, size, generator);
        int clipped = 0;
        for (int i = 0; i < N; i++)
        {
            var original = Image(batch, i);
            var result = Image(output, i);
            var rows = Enumerable.Range(0, 32).Where(y => Enumerable.Range(0, 32).Any(x => result[0, y, x] == 0)).ToList();
            var columns = Enumerable.Range(0, 32).Where(x => Enumerable.Range(0, 32).Any(y => result[0, y, x] == 0)).ToList();
            Assert.NotEmpty(rows);
            // Contiguous ranges, full size unless cut by a border.
            Assert.Equal(rows[^1] - rows[0] + 1, rows.Count);
            Assert.Equal(columns[^1] - columns[0] + 1, columns.Count);
            Assert.True(rows.Count == size || rows[0] == 0 || rows[^1] == 31, $"image {i}: {rows.Count} rows");
            Assert.True(columns.Count == size || columns[0] == 0 || columns[^1] == 31, $"image {i}: {columns.Count} columns");
            Assert.InRange(rows.Count, size / 2, size);
            if (rows.Count < size || columns.Count < size) clipped++;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                    {
                        bool inSquare = rows.Contains(y) && columns.Contains(x);
                        Assert.Equal(inSquare ? (byte)0 : original[c, y, x], result[c, y, x]);
                    }
        }
        Assert.InRange(clipped, 1, N - 1);
    }

    [Fact]
    public void CutoutOfSizeZeroChangesNothing()
    {
        using var batch = InMemoryData.RandomImages(4, seed: 6);
        using var generator = new Generator(6);
        using var output = Augmentation.Cutout(batch, 0, generator);
        Assert.True(output.Equals(batch));
    }

    [Fact]
    public void SameSeedSameOutputOtherSeedOtherOutput()
    {
        using var batch = InMemoryData.RandomImages(N, seed: 7);
        var options = new AugmentOptions { Cutout = 8 };
        Tensor Run(ulong seed)
        {
            using var generator = new Generator(seed);
            return Augmentation.Apply(batch, options, generator);
        }
        using var a = Run(11);
        using var b = Run(11);
        using var c = Run(12);
        Assert.True(a.Equals(b));
        Assert.False(a.Equals(c));
        Assert.False(a.Equals(batch));
    }

    [Fact]
    public void ApplyIsCropThenFlipThenCutout()
    {
        using var batch = InMemoryData.RandomImages(N, seed: 10);
        using var applyGenerator = new Generator(10);
        using var applied = Augmentation.Apply(batch, new AugmentOptions { Cutout = 8 }, applyGenerator);
        using var generator = new Generator(10);
        using var cropped = Augmentation.RandomCrop(batch, 4, generator);
        using var flipped = Augmentation.RandomHorizontalFlip(cropped, generator);
        using var expected = Augmentation.Cutout(flipped, 8, generator);
        Assert.True(applied.Equals(expected));
    }

    [Fact]
    public void BrightnessScalesEachImageByOneFactorInItsRange()
    {
        const double range = 0.2;
        using var batch = InMemoryData.RandomImages(N, seed: 12, low: 40, high: 200); // no clamping at 1.2×
        using var generator = new Generator(12);
        using var output = Augmentation.ColorJitter(batch, range, 0, generator);
        var factors = new List<double>();
        for (int i = 0; i < N; i++)
        {
            using var before = batch[i].to(ScalarType.Float64);
            using var after = output[i].to(ScalarType.Float64);
            double factor = after.sum().item<double>() / before.sum().item<double>();
            Assert.InRange(factor, 1 - range - 0.01, 1 + range + 0.01);
            using var expected = (before * factor).round();
            using var error = (after - expected).abs().max();
            Assert.True(error.item<double>() <= 1, $"image {i}: a pixel is {error.item<double>()} off one factor");
            factors.Add(factor);
        }
        Assert.True(factors.Max() - factors.Min() > range, "the factor varies from image to image");
    }

    [Fact]
    public void ContrastScalesEachImagesDeviationsFromItsGreyAndKeepsAFlatImage()
    {
        const double range = 0.3;
        using var batch = InMemoryData.RandomImages(N, seed: 13, low: 100, high: 156); // no clamping at 1.3×
        using var flat = torch.full([2, 3, 32, 32], 77, dtype: ScalarType.Byte);
        using var generator = new Generator(13);
        using var output = Augmentation.ColorJitter(batch, 0, range, generator);
        using var flatOutput = Augmentation.ColorJitter(flat, 0, range, generator);
        Assert.True(flatOutput.Equals(flat));
        for (int i = 0; i < N; i++)
        {
            using var before = batch[i].to(ScalarType.Float64);
            using var after = output[i].to(ScalarType.Float64);
            using var grey = (before[0] * 0.299 + before[1] * 0.587 + before[2] * 0.114).mean();
            using var deviation = before - grey;
            using var scaled = after - grey;
            double factor = (scaled * deviation).sum().item<double>() / (deviation * deviation).sum().item<double>();
            Assert.InRange(factor, 1 - range - 0.01, 1 + range + 0.01);
            using var error = (scaled - deviation * factor).abs().max();
            Assert.True(error.item<double>() <= 1, $"image {i}: a pixel is {error.item<double>()} off one factor");
        }
    }

    [Fact]
    public void BrightnessClampsAtTheTopOfTheByteRange()
    {
        // Factors in [0, 2] on a flat image of 200: a third of the images would pass 255 and wrap round as bytes.
        using var flat = torch.full([N, 3, 32, 32], 200, dtype: ScalarType.Byte);
        using var generator = new Generator(14);
        using var output = Augmentation.ColorJitter(flat, 1, 0, generator);
        using var sameDraws = new Generator(14);
        using var factors = rand(N, generator: sameDraws) * 2;
        using var expected = (factors * 200).clamp(0, 255).round().to(ScalarType.Byte).view(N, 1, 1, 1).expand(N, 3, 32, 32);
        using var error = (output.to(ScalarType.Int32) - expected.to(ScalarType.Int32)).abs().max();
        Assert.True(error.item<int>() <= 1, $"a pixel is {error.item<int>()} off the clamped reference");
        using var clamped = output.eq(255).flatten(1).all(1).sum();
        Assert.InRange(clamped.item<long>(), 5, N - 5); // both sides of the clamp occur
    }

    [Fact]
    public void ApplyJittersAfterTheFlipAndBeforeCutout()
    {
        using var batch = InMemoryData.RandomImages(N, seed: 15);
        var options = new AugmentOptions { Brightness = 0.1, Contrast = 0.1, Cutout = 8 };
        using var applyGenerator = new Generator(15);
        using var applied = Augmentation.Apply(batch, options, applyGenerator);
        using var generator = new Generator(15);
        using var cropped = Augmentation.RandomCrop(batch, 4, generator);
        using var flipped = Augmentation.RandomHorizontalFlip(cropped, generator);
        using var jittered = Augmentation.ColorJitter(flipped, 0.1, 0.1, generator);
        using var expected = Augmentation.Cutout(jittered, 8, generator);
        Assert.True(applied.Equals(expected));
    }

    [Fact]
    public void NoAugmentationReturnsAnEqualCopy()
    {
        using var batch = InMemoryData.RandomImages(2, seed: 9);
        using var generator = new Generator(9);
        var output = Augmentation.Apply(batch, AugmentOptions.None, generator);
        Assert.NotSame(batch, output);
        Assert.True(output.Equals(batch));
        output.Dispose();
        using var sum = batch.sum(); // the input survives disposing the output
        Assert.True(sum.item<long>() > 0);
    }

    [Fact]
    public void DefaultOptionsAreCropFourAndFlip()
    {
        var options = new AugmentOptions();
        Assert.Equal((true, 4, true, 0, 0.0, 0.0), (options.Crop, options.Padding, options.Flip, options.Cutout, options.Brightness, options.Contrast));
    }
}

/// <summary>Reads the global generator, so it must not run beside tests that draw from it.</summary>
[Collection(GlobalTorchState.Name)]
public class AugmentationGlobalStateTests
{
    [Fact]
    public void GlobalRandomStateIsLeftAlone()
    {
        using var batch = InMemoryData.RandomImages(8, seed: 8);
        manual_seed(123);
        using var expected = rand(4);
        manual_seed(123);
        using (var generator = new Generator(1))
        using (Augmentation.Apply(batch, new AugmentOptions { Cutout = 4 }, generator)) { }
        using var actual = rand(4);
        Assert.True(actual.Equals(expected));
    }
}
