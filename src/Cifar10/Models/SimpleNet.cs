// simple — the smallest network of the toolkit.
// Source: the classic "simple CNN" CIFAR-10 write-up (two convolutions, three linear layers);
//         PyTorch peer: bench/pytorch/models.py SimpleNet.
// Reported accuracy: 54% on the CIFAR-10 test set.
// Parameters (10 classes): 80,090.
using Cifar10.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>conv 3→8 5×5, ReLU, max-pool 2, conv 8→16 3×3, ReLU, avg-pool 2, FC 576→128→32→classes.</summary>
public sealed class SimpleNet : Module<Tensor, Tensor>, IMixedPrecision, IOnnxExportable
{
    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    // 16 channels on the 6×6 map left after 32 -5+1→ 28 /2→ 14 -3+1→ 12 /2→ 6.
    private const int FlatFeatures = 16 * 6 * 6;

    private readonly Conv2d conv1;
    private readonly MaxPool2d pool1;
    private readonly Conv2d conv2;
    private readonly AvgPool2d pool2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    /// <summary>The network, freshly initialised (from the global random state: seed it first for a reproducible start).</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    public SimpleNet(int numClasses = 10) : base(nameof(SimpleNet))
    {
        ModelGuards.RequireClasses(numClasses);

        conv1 = Conv2d(3, 8, kernel_size: 5);
        pool1 = MaxPool2d(kernel_size: 2);
        conv2 = Conv2d(8, 16, kernel_size: 3);
        pool2 = AvgPool2d(kernel_size: 2);
        fc1 = Linear(FlatFeatures, 128);
        fc2 = Linear(128, 32);
        fc3 = Linear(32, numClasses);

        RegisterComponents();
    }

    /// <summary>Logits [N, classes] of images [N,3,32,32] normalised with their training statistics.</summary>
    public override Tensor forward(Tensor input)
    {
        // call() rather than forward() on children so that forward hooks (ModelSummary) fire.
        // NHWC: with its 8 channels the network would otherwise read stale memory in libtorch's NCHW convolutions.
        var x = conv1.call(MemoryFormat.ChannelsLast(input));
        x = functional.relu(x);
        x = pool1.call(x);
        x = conv2.call(x);
        x = functional.relu(x);
        x = pool2.call(x);
        x = x.flatten(1);
        x = fc1.call(x);
        x = functional.relu(x);
        x = fc2.call(x);
        x = functional.relu(x);
        return fc3.call(x);
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        x = g.Module(pool1, g.Relu(g.Module(conv1, x)));
        x = g.Module(pool2, g.Relu(g.Module(conv2, x)));
        x = g.Relu(g.Module(fc1, g.Flatten(x)));
        return g.Module(fc3, g.Relu(g.Module(fc2, x)));
    }
}
