// vgg16 — VGG-16 with batch norm, adapted to 32×32 inputs.
// Source: kuangliu/pytorch-cifar, models/vgg.py, VGG('VGG16') (https://github.com/kuangliu/pytorch-cifar);
//         PyTorch peer: bench/pytorch/models.py VGG.
// Reported accuracy: 92.64% (kuangliu/pytorch-cifar README).
// Parameters (10 classes): 14,728,266.
using Cifar10.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>13 conv-BN-ReLU layers with 5 max-pools (32→1), AvgPool2d(1, 1), Linear(512, classes); with a dropout
/// probability above 0, a Dropout before the Linear (the write-up's dropout experiment; it has no parameters, so the
/// state dict is kuangliu's either way).</summary>
public sealed class Vgg16 : Module<Tensor, Tensor>, IMixedPrecision, IOnnxExportable
{
    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    /// <summary>Channel counts; 0 stands for the 'M' (max-pool) entries of kuangliu's cfg.</summary>
    private static readonly int[] Config = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];
    private const int MaxPool = 0;

    private readonly Sequential features;
    private readonly Dropout? dropout;
    private readonly Linear classifier;

    /// <summary>The network, freshly initialised (from the global random state: seed it first for a reproducible start).</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    /// <param name="dropout">Dropout before the classifier; 0 (the default) leaves it out, as kuangliu's network has none.</param>
    public Vgg16(int numClasses = 10, double dropout = 0) : base(nameof(Vgg16))
    {
        ModelGuards.RequireClasses(numClasses);
        ModelGuards.RequireDropout(dropout, nameof(dropout));

        features = MakeLayers(Config);
        if (dropout > 0) this.dropout = Dropout(dropout);
        // Five 2×2 pools take 32×32 down to 1×1, so the features are just the 512 channels.
        classifier = Linear(512, numClasses);

        RegisterComponents();
    }

    /// <summary>Logits [N, classes] of images [N,3,32,32] normalised with their training statistics.</summary>
    public override Tensor forward(Tensor input)
    {
        var x = features.call(MemoryFormat.ChannelsLast(input));
        x = x.flatten(1);
        if (dropout is not null) x = dropout.call(x);
        return classifier.call(x);
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraph g, string x) => g.Module(classifier, g.Flatten(g.Module(features, x)));

    private static Sequential MakeLayers(IEnumerable<int> config)
    {
        var layers = new List<Module<Tensor, Tensor>>();
        long inChannels = 3;
        foreach (var v in config)
        {
            if (v == MaxPool)
            {
                layers.Add(MaxPool2d(kernel_size: 2, stride: 2));
                continue;
            }
            layers.Add(Conv2d(inChannels, v, kernel_size: 3, padding: 1));
            layers.Add(BatchNorm2d(v));
            layers.Add(ReLU(inplace: true));
            inChannels = v;
        }
        // A no-op kept from the original so layer indices (and state-dict keys) match it.
        layers.Add(AvgPool2d(kernel_size: 1, stride: 1));
        return Sequential(layers.ToArray());
    }
}
