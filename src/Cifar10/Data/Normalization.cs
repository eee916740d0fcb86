using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>
/// Per-channel normalisation with the usual CIFAR-10 training-set statistics. Training batches
/// are augmented on uint8 first and normalised afterwards; evaluation batches are only normalised.
/// </summary>
public static class Normalization
{
    public static IReadOnlyList<float> Mean { get; } = [0.4914f, 0.4822f, 0.4465f];
    public static IReadOnlyList<float> Std { get; } = [0.2470f, 0.2435f, 0.2616f];

    /// <summary>uint8 images [...,3,H,W] to float32 (x/255 − mean)/std, on the images' device.</summary>
    public static Tensor Normalize(Tensor images)
    {
        using var scope = NewDisposeScope();
        // (x/255 − m)/s = (x − 255m) · 1/(255s): two cheap passes over the batch instead of three.
        var x = images.to_type(ScalarType.Float32);
        x.sub_(ChannelTensor(Mean, v => 255f * v, images.device)).mul_(ChannelTensor(Std, v => 1f / (255f * v), images.device));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Inverse of <see cref="Normalize"/> for display: float32 in [0, 1] (clamped).</summary>
    public static Tensor Denormalize(Tensor normalized)
    {
        using var scope = NewDisposeScope();
        var x = normalized.mul(ChannelTensor(Std, v => v, normalized.device)).add_(ChannelTensor(Mean, v => v, normalized.device));
        return x.clamp_(0f, 1f).MoveToOuterDisposeScope();
    }

    // [3,1,1] so it broadcasts over [3,H,W] and [N,3,H,W] alike.
    static Tensor ChannelTensor(IReadOnlyList<float> values, Func<float, float> transform, Device device) =>
        tensor(values.Select(transform).ToArray(), device: device).view(3, 1, 1);
}
