using static TorchSharp.torch;

namespace Cifar10.Models;

/// <summary>How a network lays out the tensors it feeds its convolutions.</summary>
static class MemoryFormat
{
    /// <summary>
    /// The same tensor with NHWC strides (PyTorch's channels_last memory format). TorchSharp 0.107 has no
    /// memory_format API, but libtorch picks the format from the strides, and conv, batch norm, ReLU, GELU and
    /// max-pool all keep it. Two reasons to use it. Speed: oneDNN's CPU convolutions are 1.2–1.7× faster for NHWC
    /// than for NCHW (the fast network; scratch measurements in the issue-3 note). Correctness: for NCHW input,
    /// the libtorch 2.10 that TorchSharp ships keeps activations in oneDNN's blocked layout, whose channel blocks
    /// (16 on an AVX-512 CPU) are padded where a layer's channel count is not a multiple of the block, and a
    /// convolution reads that padding from memory nobody wrote: NaN wherever the stale bytes happen to be NaN or
    /// infinite (the deep network's 20, 24 and 40 channels gave NaN in 3 to 77 of 400 forward passes on an AMD
    /// EPYC of family 26, none in NHWC, none with zero-filled memory, none in PyTorch 1.13 on the same machine).
    /// NHWC has no channel blocks, so no padding.
    /// </summary>
    internal static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
