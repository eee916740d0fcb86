using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>How a random crop fills the border it pads: zeros (torchvision's RandomCrop) or a mirror of the image (airbench).</summary>
public enum PadMode
{
    /// <summary>Pad with black (zero) pixels.</summary>
    Zeros,
    /// <summary>Pad with the image mirrored at its border.</summary>
    Reflect,
}

/// <summary>Which training augmentations <see cref="Augmentation.Apply"/> runs. Defaults: crop with padding 4 and flip.</summary>
public sealed record AugmentOptions
{
    /// <summary>Random crops: each image shifted by up to <see cref="Padding"/> pixels in each direction.</summary>
    public bool Crop { get; init; } = true;
    /// <summary>The crop's padding on each side in pixels: the largest shift.</summary>
    public int Padding { get; init; } = 4;
    /// <summary>How the crop fills the border it pads.</summary>
    public PadMode PadMode { get; init; } = PadMode.Zeros;
    /// <summary>Random flip with probability 0.5; see <see cref="Augmentation.AlternatingFlip"/> for the alternative.</summary>
    public bool Flip { get; init; } = true;
    /// <summary>Brightness jitter: each image's pixels scaled by a factor drawn from [1 − b, 1 + b]; 0 turns it off.</summary>
    public double Brightness { get; init; } = 0;
    /// <summary>Contrast jitter: each image blended with its mean grey by a factor drawn from [1 − c, 1 + c]; 0 turns it off.</summary>
    public double Contrast { get; init; } = 0;
    /// <summary>Side of the Cutout square in pixels; 0 turns Cutout off.</summary>
    public int Cutout { get; init; } = 0;

    /// <summary>No augmentation at all: every image as it is.</summary>
    public static AugmentOptions None { get; } = new() { Crop = false, Flip = false };
}

/// <summary>
/// Batched training augmentations on uint8 image batches [N,C,H,W]. Each runs as a handful of
/// tensor ops on the batch's own device (nothing per image in managed code), works on uint8
/// because that is 4× less memory traffic than float32 on the CPU, and draws its randomness
/// from the explicit generator only, so a seed reproduces an epoch exactly.
/// </summary>
/// <remarks>
/// Random numbers are drawn on the generator's device and then moved to the batch's device,
/// so one CPU generator gives the same augmentation whether the batch is on the CPU or a GPU.
/// Every method returns a new tensor owned by the caller.
/// </remarks>
public static class Augmentation
{
    /// <summary>The augmentations <paramref name="options"/> asks for, in order: crop, flip, brightness and contrast, Cutout
    /// (torchvision's usual order: geometry, colour, then erasing).</summary>
    /// <param name="batch">uint8 images [N,C,H,W]; left unchanged.</param>
    /// <param name="options">Which augmentations run.</param>
    /// <param name="generator">The source of every random choice (seeded per epoch by the trainer, so an epoch is reproducible).</param>
    /// <returns>A new uint8 batch owned by the caller (a copy when no augmentation runs).</returns>
    public static Tensor Apply(Tensor batch, AugmentOptions options, Generator generator)
    {
        using var scope = NewDisposeScope();
        var result = batch;
        if (options.Crop) result = RandomCrop(result, options.Padding, generator, options.PadMode);
        if (options.Flip) result = RandomHorizontalFlip(result, generator);
        if (options.Brightness > 0 || options.Contrast > 0) result = ColorJitter(result, options.Brightness, options.Contrast, generator);
        if (options.Cutout > 0) result = Cutout(result, options.Cutout, generator);
        // Always hand back a tensor the caller owns, even when no augmentation ran.
        return (ReferenceEquals(result, batch) ? batch.clone() : result).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Like torchvision's RandomCrop(size, padding): pad every side by <paramref name="padding"/>
    /// (zeros, or a mirror of the border with "reflect"), then cut an H×W window at a random
    /// offset in [0, 2·padding] per image. Done as one gather over the flattened padded planes.
    /// </summary>
    public static Tensor RandomCrop(Tensor batch, int padding, Generator generator, PadMode padMode = PadMode.Zeros)
    {
        CheckBatch(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        using var scope = NewDisposeScope();
        long n = batch.shape[0], channels = batch.shape[1], height = batch.shape[2], width = batch.shape[3];
        long paddedWidth = width + 2 * padding;
        var padded = Pad(batch, padding, padMode);

        var top = Draw(randint(0, 2 * padding + 1, [n], dtype: ScalarType.Int64, device: generator.device, generator: generator), batch);
        var left = Draw(randint(0, 2 * padding + 1, [n], dtype: ScalarType.Int64, device: generator.device, generator: generator), batch);

        // Output pixel (y, x) of image i reads padded pixel (top[i] + y, left[i] + x),
        // i.e. flat position (top[i] + y) * paddedWidth + left[i] + x within its plane.
        var rows = top.view(n, 1, 1) + arange(height, device: batch.device).view(1, height, 1);
        var columns = left.view(n, 1, 1) + arange(width, device: batch.device).view(1, 1, width);
        var flatIndex = (rows * paddedWidth + columns).view(n, 1, height * width).expand(n, channels, height * width);
        var cropped = padded.view(n, channels, -1).gather(2, flatIndex).view(n, channels, height, width);
        return cropped.MoveToOuterDisposeScope();
    }

    /// <summary>Mirrors each image left-right with probability 0.5.</summary>
    public static Tensor RandomHorizontalFlip(Tensor batch, Generator generator)
    {
        CheckBatch(batch);
        using var scope = NewDisposeScope();
        long n = batch.shape[0];
        var flip = Draw(rand(n, device: generator.device, generator: generator), batch).lt(0.5).view(n, 1, 1, 1);
        return where(flip, batch.flip(3), batch).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// airbench's alternating flip: image i is mirrored in epoch e (1-based) when
    /// <paramref name="flippedInFirstEpoch"/>[i] differs from "e is even". Over any two consecutive
    /// epochs every image is seen once each way; the first epoch's choice is random.
    /// </summary>
    public static Tensor AlternatingFlip(Tensor batch, Tensor flippedInFirstEpoch, int epoch)
    {
        CheckBatch(batch);
        using var scope = NewDisposeScope();
        var flip = flippedInFirstEpoch.to(batch.device).to(ScalarType.Bool);
        if (epoch % 2 == 0) flip = flip.logical_not();
        return where(flip.view(-1, 1, 1, 1), batch.flip(3), batch).MoveToOuterDisposeScope();
    }

    /// <summary>The per-image first-epoch choices of <see cref="AlternatingFlip"/>, drawn once for a training set.</summary>
    public static Tensor FirstEpochFlips(long count, Generator generator) =>
        rand(count, device: generator.device, generator: generator).lt(0.5);

    /// <summary>
    /// torchvision's ColorJitter(brightness, contrast) with its two factors in a fixed order: each image's pixels are
    /// multiplied by a factor drawn uniformly from [1 − <paramref name="brightness"/>, 1 + <paramref name="brightness"/>],
    /// then blended with the image's own mean grey level (ITU-R 601 luma) by a factor drawn from
    /// [1 − <paramref name="contrast"/>, 1 + <paramref name="contrast"/>]; each result is clamped to [0, 255] and the
    /// last one rounded back to bytes. A range of 0 leaves its property alone and draws nothing.
    /// </summary>
    public static Tensor ColorJitter(Tensor batch, double brightness, double contrast, Generator generator)
    {
        CheckBatch(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(brightness);
        ArgumentOutOfRangeException.ThrowIfNegative(contrast);
        using var scope = NewDisposeScope();
        long n = batch.shape[0];
        var x = batch.to(ScalarType.Float32);
        if (brightness > 0)
            x = (x * Factors(n, brightness, generator, batch)).clamp(0, 255);
        if (contrast > 0)
        {
            var grey = batch.shape[1] == 3
                ? (x.select(1, 0) * 0.299 + x.select(1, 1) * 0.587 + x.select(1, 2) * 0.114).mean([1, 2])
                : x.mean([1, 2, 3]);
            var factor = Factors(n, contrast, generator, batch);
            x = (x * factor + grey.view(n, 1, 1, 1) * (1 - factor)).clamp(0, 255);
        }
        return x.round().to(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary>One factor per image, uniform in [max(0, 1 − range), 1 + range], shaped to broadcast over [N,C,H,W].</summary>
    static Tensor Factors(long n, double range, Generator generator, Tensor batch)
    {
        double low = Math.Max(0, 1 - range), high = 1 + range;
        return (Draw(rand(n, device: generator.device, generator: generator), batch) * (high - low) + low).view(n, 1, 1, 1);
    }

    /// <summary>
    /// Cutout (DeVries &amp; Taylor, 2017): zeroes a <paramref name="size"/>×<paramref name="size"/>
    /// square per image whose centre is uniform over the image; the square is clipped at the
    /// borders, so near an edge less than size² pixels are zeroed. The square spans rows
    /// [cy − size/2, cy − size/2 + size) and likewise for columns. Size 0 returns a plain copy.
    /// </summary>
    public static Tensor Cutout(Tensor batch, int size, Generator generator)
    {
        CheckBatch(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (size == 0) return batch.clone();
        using var scope = NewDisposeScope();
        long n = batch.shape[0], height = batch.shape[2], width = batch.shape[3];
        var top = Draw(randint(0, height, [n], dtype: ScalarType.Int64, device: generator.device, generator: generator), batch) - size / 2;
        var left = Draw(randint(0, width, [n], dtype: ScalarType.Int64, device: generator.device, generator: generator), batch) - size / 2;

        // Masks from comparisons against pixel coordinates: clipping at the borders comes for free.
        var ys = arange(height, device: batch.device).view(1, height, 1);
        var xs = arange(width, device: batch.device).view(1, 1, width);
        var inRows = ys.ge(top.view(n, 1, 1)).logical_and(ys.lt((top + size).view(n, 1, 1)));
        var inColumns = xs.ge(left.view(n, 1, 1)).logical_and(xs.lt((left + size).view(n, 1, 1)));
        var square = inRows.logical_and(inColumns).unsqueeze(1); // [N,1,H,W], broadcast over channels
        return batch.masked_fill(square, 0).MoveToOuterDisposeScope();
    }

    static Tensor Draw(Tensor random, Tensor batch) => random.to(batch.device);

    static Tensor Pad(Tensor batch, int padding, PadMode mode)
    {
        long[] sides = [padding, padding, padding, padding];
        return mode == PadMode.Reflect ? nn.functional.pad(batch, sides, PaddingModes.Reflect) : nn.functional.pad(batch, sides);
    }

    static void CheckBatch(Tensor batch)
    {
        if (batch.ndim != 4)
            throw new ArgumentException($"expected an image batch [N,C,H,W], got shape [{string.Join(",", batch.shape)}]", nameof(batch));
    }
}
