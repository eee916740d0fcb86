using static TorchSharp.torch;

namespace Cifar10.Tests;

public static class TensorExtensions
{
    /// <summary>Same shape and identical elements (TorchSharp's Tensor.equal is element-wise).</summary>
    public static bool Same(this Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
