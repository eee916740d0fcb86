using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>
/// Per-channel normalisation: (x/255 − mean)/std with the training images' statistics. CIFAR-10
/// uses the usual published ones; CIFAR-100 and image folders have theirs computed from their
/// training images (<see cref="Of"/>). A network is trained, evaluated and served with the same
/// statistics, so its checkpoint records them. Training batches are augmented on uint8 first and
/// normalised afterwards; evaluation batches are only normalised.
/// </summary>
/// <param name="Mean">The mean of each channel (red, green, blue), as a fraction of 255.</param>
/// <param name="Std">The standard deviation of each channel, as a fraction of 255.</param>
public sealed record Normalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>The CIFAR-10 training set's statistics, as everyone uses them.</summary>
    public static Normalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    /// <summary>The per-channel mean and standard deviation of uint8 images [N,3,H,W], as fractions of 255.</summary>
    public static Normalization Of(Tensor images)
    {
        using var scope = NewDisposeScope();
        // Sums in float64 over slices: 50,000 images are 150 million values per statistic.
        var sum = zeros(3, dtype: ScalarType.Float64);
        var squares = zeros(3, dtype: ScalarType.Float64);
        long n = images.shape[0], chunk = 4096;
        for (long start = 0; start < n; start += chunk)
        {
            using var inner = NewDisposeScope();
            var x = images.narrow(0, start, Math.Min(chunk, n - start)).to_type(ScalarType.Float64).div_(255);
            sum.add_(x.sum([0, 2, 3]));
            squares.add_(x.square().sum([0, 2, 3]));
        }
        double count = n * images.shape[2] * images.shape[3];
        var mean = (sum / count).data<double>().ToArray();
        var variance = (squares / count).data<double>().ToArray();
        return new([.. mean.Select(m => (float)m)], [.. mean.Zip(variance, (m, v) => (float)Math.Sqrt(Math.Max(v - m * m, 1e-12)))]);
    }

    /// <summary>uint8 images [...,3,H,W] to float32 (x/255 − mean)/std, on the images' device.</summary>
    public Tensor Normalize(Tensor images)
    {
        using var scope = NewDisposeScope();
        // (x/255 − m)/s = (x − 255m) · 1/(255s): two cheap passes over the batch instead of three.
        var x = images.to_type(ScalarType.Float32);
        x.sub_(ChannelTensor(Mean, v => 255f * v, images.device)).mul_(ChannelTensor(Std, v => 1f / (255f * v), images.device));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Inverse of <see cref="Normalize"/> for display: float32 in [0, 1] (clamped).</summary>
    public Tensor Denormalize(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var x = normalized.mul(ChannelTensor(Std, v => v, normalized.device)).add_(ChannelTensor(Mean, v => v, normalized.device));
        return x.clamp_(0f, 1f).MoveToOuterDisposeScope();
    }

    /// <summary>Equal when both hold the same means and standard deviations (the lists compared by value, not by reference).</summary>
    public bool Equals(Normalization? other) => other is not null && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <summary>A hash consistent with <see cref="Equals(Normalization)"/>.</summary>
    public override int GetHashCode() => HashCode.Combine(Mean[0], Std[0]);

    // [3,1,1] so it broadcasts over [3,H,W] and [N,3,H,W] alike.
    static Tensor ChannelTensor(IReadOnlyList<float> values, Func<float, float> transform, Device device) =>
        tensor(values.Select(transform).ToArray(), device: device).view(3, 1, 1);
}
