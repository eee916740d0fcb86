// resnet18 — ResNet-18 adapted to CIFAR (3×3 stride-1 stem, no max-pool).
// Source: kuangliu/pytorch-cifar, models/resnet.py, ResNet18() (https://github.com/kuangliu/pytorch-cifar);
//         PyTorch peer: bench/pytorch/models.py ResNet18Cifar.
// Reported accuracy: 93.02% (kuangliu/pytorch-cifar README).
// Parameters (10 classes): 11,173,962.
using Cifar10.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// conv 3×3 64 + BN + ReLU at 32×32, four stages of two BasicBlocks (64, 128, 256, 512 channels;
/// stride 2 from the second stage: 32→16→8→4), average pool 4, Linear(512, classes).
/// </summary>
public sealed class ResNet18Cifar : Module<Tensor, Tensor>, IMixedPrecision, IOnnxExportable
{
    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    private static readonly int[] BlocksPerStage = [2, 2, 2, 2];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Linear linear;

    /// <summary>The network, freshly initialised (from the global random state: seed it first for a reproducible start).</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    public ResNet18Cifar(int numClasses = 10) : base(nameof(ResNet18Cifar))
    {
        ModelGuards.RequireClasses(numClasses);

        // 3×3 stride-1 stem: 32×32 images are too small for ImageNet's 7×7/2 + max-pool.
        conv1 = Conv2d(3, 64, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn1 = BatchNorm2d(64);
        long inPlanes = 64;
        layer1 = ResNetStage.Build(ref inPlanes, 64, BlocksPerStage[0], stride: 1, (i, o, s) => new BasicBlock(i, o, s));
        layer2 = ResNetStage.Build(ref inPlanes, 128, BlocksPerStage[1], stride: 2, (i, o, s) => new BasicBlock(i, o, s));
        layer3 = ResNetStage.Build(ref inPlanes, 256, BlocksPerStage[2], stride: 2, (i, o, s) => new BasicBlock(i, o, s));
        layer4 = ResNetStage.Build(ref inPlanes, 512, BlocksPerStage[3], stride: 2, (i, o, s) => new BasicBlock(i, o, s));
        linear = Linear(512, numClasses);

        RegisterComponents();
    }

    /// <summary>Logits [N, classes] of images [N,3,32,32] normalised with their training statistics.</summary>
    public override Tensor forward(Tensor input)
    {
        var x = conv1.call(MemoryFormat.ChannelsLast(input));
        x = bn1.call(x);
        x = functional.relu(x);
        x = layer1.call(x);
        x = layer2.call(x);
        x = layer3.call(x);
        x = layer4.call(x);
        // 4×4 map → 1×1, as in the original (a fixed pool: this network expects 32×32 input).
        x = functional.avg_pool2d(x, 4);
        x = x.flatten(1);
        return linear.call(x);
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        x = g.Relu(g.Module(bn1, g.Module(conv1, x)));
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 }) x = g.Module(layer, x);
        return g.Module(linear, g.Flatten(g.AveragePool(x, 4)));
    }

    /// <summary>
    /// Two 3×3 conv-BN layers plus a shortcut: identity (an empty Sequential, as in the original) or a
    /// 1×1 conv-BN projection when the block changes stride or width.
    /// </summary>
    internal sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential shortcut;

        public BasicBlock(long inPlanes, long planes, long stride = 1) : base(nameof(BasicBlock))
        {
            conv1 = Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(planes);
            conv2 = Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
            bn2 = BatchNorm2d(planes);
            shortcut = stride != 1 || inPlanes != planes
                ? Sequential(
                    Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false),
                    BatchNorm2d(planes))
                : Sequential();

            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var x = conv1.call(input);
            x = bn1.call(x);
            x = functional.relu(x);
            x = conv2.call(x);
            x = bn2.call(x);
            x = x + shortcut.call(input);
            return functional.relu(x);
        }

        public string ExportOnnx(OnnxGraph g, string input)
        {
            var x = g.Relu(g.Module(bn1, g.Module(conv1, input)));
            x = g.Module(bn2, g.Module(conv2, x));
            return g.Relu(g.Add(x, g.Module(shortcut, input))); // an empty shortcut passes the input through
        }
    }
}
