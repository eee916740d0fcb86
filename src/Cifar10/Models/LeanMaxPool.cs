using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// max_pool2d over non-overlapping k×k windows (stride k, no padding) whose backward keeps only
/// where each maximum was, as one byte per output element. libtorch's own max_pool2d saves its whole
/// input for the backward, although the gradient needs only the argmax: in the fast network at batch
/// 1024 that is 540 MB of conv outputs kept alive through every step for nothing, and its int64 argmax
/// indices would still be 240 MB. With the windows disjoint, the gradient is the incoming gradient
/// scattered to those positions, the same values libtorch computes (ties included: the same position
/// is kept). Without gradients it is plain max_pool2d.
/// </summary>
internal static class LeanMaxPool
{
    public static Tensor Apply(Tensor input, long kernel)
    {
        // A window of more than 256 pixels has offsets that do not fit a byte: libtorch's own pool then (the fast
        // network's global pool on images above 135 pixels).
        bool lean = input.requires_grad && is_grad_enabled() && kernel * kernel <= byte.MaxValue + 1;
        return lean ? Function.apply(input, kernel) : functional.max_pool2d(input, kernel_size: kernel);
    }

    sealed class Function : autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(LeanMaxPool);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            long kernel = (long)vars[1], width = input.shape[3];
            var (output, indices) = functional.max_pool2d_with_indices(input, [kernel, kernel], strides: [kernel, kernel]);
            // libtorch's index is the flat position h·W + w in the input plane; kept is its offset
            // dy·k + dx inside the window = index − corner − dy·(W − k), with dy = h − (window row)·k.
            using (indices)
            using (var corner = WindowCorners(output, kernel, width))
            using (var rowInWindow = indices.div(width, RoundingMode.floor).sub_(WindowTopRows(output, kernel)))
            using (var offset = indices.sub(corner).sub_(rowInWindow.mul_(width - kernel)))
                ctx.save_for_backward([offset.to(ScalarType.Byte)]);
            ctx.save_data("kernel", kernel);
            ctx.save_data("height", input.shape[2]);
            ctx.save_data("width", width);
            return output;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            long kernel = (long)ctx.get_data("kernel");
            long height = (long)ctx.get_data("height"), width = (long)ctx.get_data("width");
            using var saved = ctx.get_saved_variables()[0];
            // Back to libtorch's flat index: corner + dy·W + dx = corner + offset + dy·(W − k).
            using var offset = saved.to(ScalarType.Int64);
            using var corner = WindowCorners(gradOutput, kernel, width);
            using var indices = offset.div(kernel, RoundingMode.floor).mul_(width - kernel).add_(offset).add_(corner);
            // Scattered channels-last ([N, H·W, C]), the layout the fast network's convs run in.
            // (TorchSharp 0.107's max_unpool2d passes its output size as the kernel size, so it cannot be used.)
            long n = gradOutput.shape[0], channels = gradOutput.shape[1];
            using var flatIndices = indices.permute(0, 2, 3, 1).reshape(n, -1, channels);
            using var flatGradient = gradOutput.permute(0, 2, 3, 1).reshape(n, -1, channels);
            using var gradient = zeros([n, height * width, channels], dtype: gradOutput.dtype, device: gradOutput.device)
                .scatter_(1, flatIndices, flatGradient);
            // TorchSharp hands the incoming gradient over as a handle of the caller's dispose scope and never frees
            // it: freed here, it goes as soon as autograd is done with it instead of with that scope.
            gradOutput.Dispose();
            return [gradient.view(n, height, width, channels).permute(0, 3, 1, 2), null!];
        }

        /// <summary>The input row of each window's top edge, [outH, 1].</summary>
        static Tensor WindowTopRows(Tensor pooled, long kernel) =>
            arange(pooled.shape[2], dtype: ScalarType.Int64, device: pooled.device).mul_(kernel).view(-1, 1);

        /// <summary>The flat input position of each window's top-left pixel, [outH, outW].</summary>
        static Tensor WindowCorners(Tensor pooled, long kernel, long width)
        {
            using var rows = WindowTopRows(pooled, kernel).mul_(width);
            using var columns = arange(pooled.shape[3], dtype: ScalarType.Int64, device: pooled.device).mul_(kernel);
            return rows + columns;
        }
    }
}
