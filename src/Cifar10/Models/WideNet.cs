// wide — six wide convolutions (64…256 channels) in one flat stack of 23 layers.
// Source: the network the CIFAR-10 write-up tables in torchinfo style as "Conv2d: 1-1 … Linear: 1-23",
//         2,211,338 parameters; PyTorch peer: bench/pytorch/models.py wide().
// Reported accuracy: not stated in the write-up's table.
// Parameters (10 classes): 2,211,338.
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// The 23 layers, in order (index = torchinfo "1-index"):
///  1 Conv 3→64 pad 1     2 BN    3 ReLU
///  4 Conv 64→128 pad 1   5 BN    6 ReLU   7 MaxPool 2  (32→16)
///  8 Conv 128→256 pad 1  9 BN   10 ReLU
/// 11 Conv 256→256 pad 1 12 BN   13 ReLU  14 MaxPool 2  (16→8)
/// 15 Conv 256→256 (8→6) 16 BN   17 MaxPool 2 (6→3)
/// 18 Conv 256→256 (3→1) 19 Flatten
/// 20 Linear 256→256     21 ReLU 22 Dropout 23 Linear 256→classes
/// </summary>
/// <remarks>
/// The parameter count fixes 6 convs, 5 BatchNorms and 2 Linears; with 3 pools, Flatten and Dropout that is 18
/// layers, which leaves room for exactly 5 ReLUs if the last Linear is layer 23. They go after the four padded
/// convs and after the hidden Linear. Conv5 is followed by a max-pool (itself a non-linearity) and conv6 feeds
/// the hidden Linear directly (two linear maps in a row, equivalent to one 2304→256 map), so the head is the
/// usual Linear → ReLU → Dropout → Linear.
/// </remarks>
public sealed class WideNet : LayerStack
{
    /// <summary>The dropout before the last linear layer when none is given.</summary>
    public const double DefaultDropout = 0.5;

    /// <summary>The 23-layer stack.</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    /// <param name="dropout">The dropout probability before the last linear layer, in [0, 1).</param>
    public WideNet(int numClasses = 10, double dropout = DefaultDropout)
        : base(nameof(WideNet), BuildLayers(numClasses, dropout))
    {
    }

    private static List<Module<Tensor, Tensor>> BuildLayers(int numClasses, double dropout)
    {
        ModelGuards.RequireClasses(numClasses);
        ModelGuards.RequireDropout(dropout, nameof(dropout));

        return
        [
            Conv2d(3, 64, kernel_size: 3, padding: 1),      //  1  32×32
            BatchNorm2d(64),                                //  2
            ReLU(),                                         //  3
            Conv2d(64, 128, kernel_size: 3, padding: 1),    //  4
            BatchNorm2d(128),                               //  5
            ReLU(),                                         //  6
            MaxPool2d(kernel_size: 2),                      //  7  → 16×16
            Conv2d(128, 256, kernel_size: 3, padding: 1),   //  8
            BatchNorm2d(256),                               //  9
            ReLU(),                                         // 10
            Conv2d(256, 256, kernel_size: 3, padding: 1),   // 11
            BatchNorm2d(256),                               // 12
            ReLU(),                                         // 13
            MaxPool2d(kernel_size: 2),                      // 14 → 8×8
            Conv2d(256, 256, kernel_size: 3),               // 15 → 6×6 (unpadded)
            BatchNorm2d(256),                               // 16
            MaxPool2d(kernel_size: 2),                      // 17 → 3×3
            Conv2d(256, 256, kernel_size: 3),               // 18 → 1×1 (unpadded)
            Flatten(),                                      // 19 → 256
            Linear(256, 256),                               // 20
            ReLU(),                                         // 21
            Dropout(dropout),                               // 22
            Linear(256, numClasses),                        // 23
        ];
    }
}
