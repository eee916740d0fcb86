// resnet18-imagenet — torchvision's ImageNet ResNet-18 layout, unchanged except for the number of classes.
// Source: pytorch/vision, torchvision/models/resnet.py, resnet18() (https://github.com/pytorch/vision);
//         PyTorch peer: bench/pytorch/models.py ResNet18ImageNet (torchvision itself is not a dependency).
// Reported accuracy: 71% on CIFAR-10 after 8 epochs (trained from scratch on 32×32 images).
// Parameters (10 classes): 11,181,642.
using Cifar10.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// conv 7×7/2 + BN + ReLU, max-pool 3×3/2, four stages of two BasicBlocks (64…512 channels),
/// adaptive average pool to 1×1, fc. On 32×32 input the stem leaves an 8×8 map, so layer4 works at 1×1.
/// </summary>
public sealed class ResNet18ImageNet : Module<Tensor, Tensor>, IMixedPrecision, IOnnxExportable
{
    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    private static readonly int[] BlocksPerStage = [2, 2, 2, 2];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc;

    /// <summary>The network, freshly initialised (from the global random state: seed it first for a reproducible start).</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    public ResNet18ImageNet(int numClasses = 10) : base(nameof(ResNet18ImageNet))
    {
        ModelGuards.RequireClasses(numClasses);

        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        relu = ReLU(inplace: true);
        maxpool = MaxPool2d(kernel_size: 3, stride: 2, padding: 1);
        long inPlanes = 64;
        layer1 = ResNetStage.Build(ref inPlanes, 64, BlocksPerStage[0], stride: 1, (i, o, s) => new BasicBlock(i, o, s));
        layer2 = ResNetStage.Build(ref inPlanes, 128, BlocksPerStage[1], stride: 2, (i, o, s) => new BasicBlock(i, o, s));
        layer3 = ResNetStage.Build(ref inPlanes, 256, BlocksPerStage[2], stride: 2, (i, o, s) => new BasicBlock(i, o, s));
        layer4 = ResNetStage.Build(ref inPlanes, 512, BlocksPerStage[3], stride: 2, (i, o, s) => new BasicBlock(i, o, s));
        avgpool = AdaptiveAvgPool2d(1);
        fc = Linear(512, numClasses);

        RegisterComponents();
        InitialiseLikeTorchvision();
    }

    /// <summary>Logits [N, classes] of images [N,3,32,32] normalised with their training statistics.</summary>
    public override Tensor forward(Tensor input)
    {
        var x = conv1.call(MemoryFormat.ChannelsLast(input));
        x = bn1.call(x);
        x = relu.call(x);
        x = maxpool.call(x);
        x = layer1.call(x);
        x = layer2.call(x);
        x = layer3.call(x);
        x = layer4.call(x);
        x = avgpool.call(x);
        x = x.flatten(1);
        return fc.call(x);
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        x = g.Module(maxpool, g.Relu(g.Module(bn1, g.Module(conv1, x))));
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 }) x = g.Module(layer, x);
        return g.Module(fc, g.Flatten(g.Module(avgpool, x)));
    }

    /// <summary>
    /// torchvision re-initialises every conv with Kaiming-normal (fan_out, ReLU) and every BatchNorm with
    /// weight 1, bias 0; the Linear keeps PyTorch's default. The reported 71% was trained from that start.
    /// </summary>
    private void InitialiseLikeTorchvision()
    {
        using var _ = no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
                    break;
                case BatchNorm2d bn:
                    init.ones_(bn.weight);
                    init.zeros_(bn.bias);
                    break;
            }
        }
    }

    /// <summary>
    /// torchvision's BasicBlock: one ReLU module used twice, and an optional <c>downsample</c> projection
    /// (null, hence unregistered, when the block keeps stride and width).
    /// </summary>
    internal sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly ReLU relu;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? downsample;

        public BasicBlock(long inPlanes, long planes, long stride = 1) : base(nameof(BasicBlock))
        {
            conv1 = Conv2d(inPlanes, planes, kernel_size: 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(planes);
            relu = ReLU(inplace: true);
            conv2 = Conv2d(planes, planes, kernel_size: 3, stride: 1, padding: 1, bias: false);
            bn2 = BatchNorm2d(planes);
            if (stride != 1 || inPlanes != planes)
                downsample = Sequential(
                    Conv2d(inPlanes, planes, kernel_size: 1, stride: stride, bias: false),
                    BatchNorm2d(planes));

            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var identity = downsample is null ? input : downsample.call(input);
            var x = conv1.call(input);
            x = bn1.call(x);
            x = relu.call(x);
            x = conv2.call(x);
            x = bn2.call(x);
            // Out-of-place add: the in-place ReLU below must not write into the block's input.
            x = x + identity;
            return relu.call(x);
        }

        public string ExportOnnx(OnnxGraph g, string input)
        {
            var identity = downsample is null ? input : g.Module(downsample, input);
            var x = g.Relu(g.Module(bn1, g.Module(conv1, input)));
            x = g.Module(bn2, g.Module(conv2, x));
            return g.Relu(g.Add(x, identity));
        }
    }
}
