// tutorial — the "two-layer / layer 3 / layer 4" comparison of the introductory CNN tutorial.
// Source: the CIFAR-10 tutorial write-up comparing 2, 3 and 4 conv blocks (conv 3×3 pad 1 + ReLU + max-pool 2,
//         channels 16, 32, 64, 128) followed by one linear layer; PyTorch peer: bench/pytorch/models.py tutorial().
// Reported accuracy: not stated per depth in the write-up.
// Parameters (10 classes): depth 2: 25,578; depth 3: 33,834; depth 4: 102,570.
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary><c>depth</c> blocks of conv 3×3 (padding 1) + ReLU + max-pool 2, then Flatten and one Linear.</summary>
public sealed class TutorialNet : LayerStack
{
    /// <summary>The fewest conv blocks (the tutorial's two-layer network).</summary>
    public const int MinDepth = 2;
    /// <summary>The most conv blocks: four halvings leave a 2×2 map.</summary>
    public const int MaxDepth = 4;
    /// <summary>The depth when none is given.</summary>
    public const int DefaultDepth = 3;

    private static readonly int[] Channels = [16, 32, 64, 128];

    /// <summary>The network with <paramref name="depth"/> conv blocks of 16, 32, 64 and 128 channels.</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    /// <param name="depth">Conv blocks, <see cref="MinDepth"/> to <see cref="MaxDepth"/>.</param>
    public TutorialNet(int numClasses = 10, int depth = DefaultDepth)
        : base(nameof(TutorialNet), BuildLayers(numClasses, depth))
    {
        Depth = depth;
    }

    /// <summary>Number of conv blocks (2..4).</summary>
    public int Depth { get; }

    private static List<Module<Tensor, Tensor>> BuildLayers(int numClasses, int depth)
    {
        ModelGuards.RequireClasses(numClasses);
        if (depth < MinDepth || depth > MaxDepth)
            throw new ArgumentOutOfRangeException(nameof(depth), depth,
                $"tutorial depth must be between {MinDepth} and {MaxDepth} (conv blocks), got {depth}");

        var layers = new List<Module<Tensor, Tensor>>();
        long inChannels = 3;
        for (var i = 0; i < depth; i++)
        {
            long outChannels = Channels[i];
            layers.Add(Conv2d(inChannels, outChannels, kernel_size: 3, padding: 1));
            layers.Add(ReLU());
            layers.Add(MaxPool2d(kernel_size: 2));
            inChannels = outChannels;
        }

        // Each block halves the 32×32 input.
        var side = 32 >> depth;
        layers.Add(Flatten());
        layers.Add(Linear(inChannels * side * side, numClasses));
        return layers;
    }
}
