using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// max_pool2d over non-overlapping k×k windows (stride k, no padding) whose backward keeps only the
/// argmax indices. libtorch's own max_pool2d saves its whole input for the backward, although the
/// gradient needs only where each maximum was: in the fast network at batch 1024 that is 540 MB of
/// conv outputs kept alive through every step for nothing. With the windows disjoint, the gradient is
/// the incoming gradient scattered to those indices, the same values libtorch computes
/// (ties included: the same index is kept). Without gradients it is plain max_pool2d.
/// </summary>
public static class LeanMaxPool
{
    public static Tensor Apply(Tensor input, long kernel)
    {
        if (!input.requires_grad || !is_grad_enabled()) return functional.max_pool2d(input, kernel_size: kernel);
        return Function.apply(input, kernel);
    }

    sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(LeanMaxPool);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            long kernel = (long)vars[1];
            var (output, indices) = functional.max_pool2d_with_indices(input, [kernel, kernel], strides: [kernel, kernel]);
            ctx.save_for_backward([indices]);
            ctx.save_data("height", input.shape[2]);
            ctx.save_data("width", input.shape[3]);
            return output;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            // Scattered channels-last ([N, H·W, C]), the layout the fast network's convs run in.
            // (TorchSharp 0.107's max_unpool2d passes its output size as the kernel size, so it cannot be used.)
            using var indices = ctx.get_saved_variables()[0];
            long n = gradOutput.shape[0], channels = gradOutput.shape[1];
            long height = (long)ctx.get_data("height"), width = (long)ctx.get_data("width");
            using var flatIndices = indices.permute(0, 2, 3, 1).reshape(n, -1, channels);
            using var flatGradient = gradOutput.permute(0, 2, 3, 1).reshape(n, -1, channels);
            using var gradient = zeros([n, height * width, channels], dtype: gradOutput.dtype, device: gradOutput.device)
                .scatter_(1, flatIndices, flatGradient);
            return [gradient.view(n, height, width, channels).permute(0, 3, 1, 2), null!];
        }
    }
}
