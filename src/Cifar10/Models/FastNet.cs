// fast — the airbench94 network: a frozen 2×2 patch-whitening conv, three conv blocks, a linear head.
// Source: Keller Jordan, airbench94.py, make_net() (https://github.com/KellerJordan/cifar10-airbench),
//         itself a descendant of David Page's ResNet-9 ("How to train your ResNet", myrtle.ai, 2018);
//         PyTorch peer: bench/pytorch/models.py FastNet.
// Reported accuracy: 94.01% mean over 1,000 runs of 9.9 epochs (airbench94, with its training recipe
//         TrainConfig.FastRecipe and mirror + translate test-time augmentation).
// Parameters (10 classes): 1,972,792 (of which 1,971,352 trainable: the whitening weights and the
//         batch-norm scales are frozen).
using Cifar10.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// The airbench94 network. In bfloat16 (<see cref="ComputeType"/>) it computes under libtorch's autocast,
/// as every network that declares <see cref="IMixedPrecision"/> does (<see cref="Training.Precision.ForwardScope"/>).
/// </summary>
public sealed class FastNet : Module<Tensor, Tensor>, IDataInitialized, IEpochAware, IMixedPrecision, IAnyImageSize, IOnnxExportable
{
    /// <summary>airbench computes the whitening filters from the first 5,000 training images.</summary>
    public const int WhiteningImages = 5000;
    /// <summary>airbench trains the whitening bias for the first 3 of its 10 epochs.</summary>
    public const double WhiteningBiasEpochFraction = 0.3;

    /// <summary>The side of the patches the frozen whitening convolution sees.</summary>
    public const int WhiteningKernel = 2;
    /// <summary>Twice the patch dimension: every whitening direction appears with both signs, so GELU loses nothing.</summary>
    public const int WhiteningWidth = 2 * 3 * WhiteningKernel * WhiteningKernel;
    static readonly int[] BlockWidths = [64, 256, 256];
    /// <summary>airbench's logit scale: keeps the initial logits small, as a low-temperature softmax would.</summary>
    const double LogitScale = 1.0 / 9;

    private readonly DiracConv2d whiten;
    private readonly FastBlock block1, block2, block3;
    private readonly Linear head;

    /// <summary>The network with untrained whitening filters: <see cref="IDataInitialized"/> computes them from the training images.</summary>
    /// <param name="numClasses">The number of classes: the width of the logits.</param>
    public FastNet(int numClasses = 10) : base(nameof(FastNet))
    {
        ModelGuards.RequireClasses(numClasses);
        whiten = new DiracConv2d(3, WhiteningWidth, WhiteningKernel, padding: 0, bias: true);
        block1 = new FastBlock(WhiteningWidth, BlockWidths[0]);
        block2 = new FastBlock(BlockWidths[0], BlockWidths[1]);
        block3 = new FastBlock(BlockWidths[1], BlockWidths[2]);
        head = Linear(BlockWidths[2], numClasses, hasBias: false);
        RegisterComponents();

        // The whitening filters come from the data (InitializeWhitening) and are never trained.
        whiten.weight.requires_grad = false;
    }

    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    /// <summary>Whether the whitening conv's bias is trained (airbench trains it for the first epochs only).</summary>
    public bool WhiteningBiasTrainable
    {
        get => whiten.bias!.requires_grad;
        set => whiten.bias!.requires_grad = value;
    }

    /// <summary>The whitening convolution's filters (frozen): the eigenvectors of the training patches' covariance, each divided by the square root of its eigenvalue.</summary>
    public Parameter WhiteningWeight => whiten.weight;

    int IDataInitialized.InitializationImages => WhiteningImages;

    void IDataInitialized.InitializeFromData(Tensor normalizedImages) => InitializeWhitening(normalizedImages);

    void IEpochAware.EpochStarting(int epoch, int epochs) => WhiteningBiasTrainable = WhiteningBiasTrainedIn(epoch, epochs);

    /// <summary>The whitening conv takes a pixel and each block halves the side: 9 pixels leave 1×1 after block 3.</summary>
    int IAnyImageSize.SmallestImage => 9;

    /// <summary>Whether the whitening bias trains in 1-based <paramref name="epoch"/>: during the first 30% of the epochs.</summary>
    public static bool WhiteningBiasTrainedIn(int epoch, int epochs) => epoch - 1 < (int)Math.Round(WhiteningBiasEpochFraction * epochs);

    /// <summary>Logits [N, classes] of normalised images [N,3,H,W] of any side from 9 pixels on (<see cref="IAnyImageSize"/>).</summary>
    public override Tensor forward(Tensor input)
    {
        // Intermediates die here rather than with the caller's step scope: autograd keeps what the
        // backward needs by itself, and everything else (a 250 MB conv output at batch 1024) would
        // otherwise stay alive through the backward.
        using var scope = NewDisposeScope();
        var x = functional.gelu(whiten.call(MemoryFormat.ChannelsLast(input)));
        x = block1.call(x);
        x = block2.call(x);
        x = block3.call(x);
        // airbench's MaxPool2d(3) over block 3's 3×3 map is a global max: taken over the whole map, as here,
        // it is the same at 32 pixels and still one value per channel on smaller images.
        x = LeanMaxPool.Apply(x, kernel: (int)Math.Min(x.shape[2], x.shape[3]));
        x = x.flatten(1);
        return (head.call(x) * LogitScale).MoveToOuterDisposeScope();
    }

    /// <summary>In float32, whatever <see cref="ComputeType"/> is; memory layout is the runtime's business.</summary>
    public string ExportOnnx(OnnxGraph g, string x)
    {
        x = g.Gelu(g.Module(whiten, x));
        foreach (var block in new[] { block1, block2, block3 }) x = g.Module(block, x);
        return g.Scale(g.Module(head, g.Flatten(g.MaxPool(x, 3))), LogitScale);
    }

    /// <summary>
    /// Sets the whitening filters from 2×2 patches of <paramref name="normalizedImages"/> (N×3×32×32,
    /// airbench uses the first 5,000 training images): the eigenvectors of the patch covariance,
    /// each scaled by 1/sqrt(eigenvalue + eps), and their negatives. The first 12 output channels
    /// of the conv are then uncorrelated with unit variance over those patches.
    /// </summary>
    public void InitializeWhitening(Tensor normalizedImages, double eps = 5e-4)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (eigenvalues, eigenvectors) = WhiteningBasis(normalizedImages.to(whiten.weight.device));
        var scaled = eigenvectors / (eigenvalues + eps).sqrt().view(-1, 1, 1, 1);
        whiten.weight.copy_(cat([scaled, -scaled]));
    }

    /// <summary>Eigenvalues (descending) and eigenvectors (as 3×k×k filters) of the k×k patch covariance.</summary>
    public static (Tensor Eigenvalues, Tensor Eigenvectors) WhiteningBasis(Tensor images, int kernel = WhiteningKernel)
    {
        using var scope = NewDisposeScope();
        var patches = Patches(images.@float(), kernel);          // [P, 3·k·k]
        var covariance = patches.T.matmul(patches) / patches.shape[0];
        var (eigenvalues, eigenvectors) = linalg.eigh(covariance);  // ascending
        long channels = images.shape[1];
        var filters = eigenvectors.T.reshape(-1, channels, kernel, kernel).flip(0);
        return (eigenvalues.flip(0).MoveToOuterDisposeScope(), filters.MoveToOuterDisposeScope());
    }

    /// <summary>Every k×k patch of every image, flattened to [P, C·k·k] in the conv weight's (c, y, x) order.</summary>
    public static Tensor Patches(Tensor images, int kernel = WhiteningKernel)
    {
        long channels = images.shape[1];
        return images.unfold(2, kernel, 1).unfold(3, kernel, 1)   // [N, C, H', W', k, k]
                     .permute(0, 2, 3, 1, 4, 5)                  // [N, H', W', C, k, k]
                     .reshape(-1, channels * kernel * kernel);
    }
}

/// <summary>conv, max-pool, batch norm, GELU, conv, batch norm, GELU (airbench's ConvGroup).</summary>
internal sealed class FastBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    // airbench's batch norm: running statistics move fast (PyTorch momentum 1 − 0.6), eps tiny,
    // scale frozen at 1 and only the bias learned.
    const double NormMomentum = 0.4;
    const double NormEps = 1e-12;

    private readonly DiracConv2d conv1, conv2;
    private readonly BatchNorm2d norm1, norm2;

    public FastBlock(long inChannels, long outChannels) : base(nameof(FastBlock))
    {
        conv1 = new DiracConv2d(inChannels, outChannels, 3, padding: 1, bias: false);
        conv1.InitializeIdentity();
        norm1 = BatchNorm2d(outChannels, eps: NormEps, momentum: NormMomentum);
        conv2 = new DiracConv2d(outChannels, outChannels, 3, padding: 1, bias: false);
        conv2.InitializeIdentity();
        norm2 = BatchNorm2d(outChannels, eps: NormEps, momentum: NormMomentum);
        RegisterComponents();
        norm1.weight!.requires_grad = false;
        norm2.weight!.requires_grad = false;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope(); // see FastNet.forward
        var x = conv1.call(input);
        x = LeanMaxPool.Apply(x, kernel: 2);
        x = functional.gelu(norm1.call(x));
        x = conv2.call(x);
        return functional.gelu(norm2.call(x)).MoveToOuterDisposeScope();
    }

    public string ExportOnnx(OnnxGraph g, string x)
    {
        x = g.Gelu(g.Module(norm1, g.MaxPool(g.Module(conv1, x), 2)));
        return g.Gelu(g.Module(norm2, g.Module(conv2, x)));
    }
}

/// <summary>
/// A stride-1 conv that can start as the identity (airbench's dirac init) and hands oneDNN its weight in
/// channels-last layout, as its input arrives. Weights start as PyTorch's Conv2d's (Kaiming-uniform,
/// a = √5); the bias, if any, starts at zero as in airbench.
/// </summary>
internal sealed class DiracConv2d : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly long padding;
    public Parameter weight;
    public Parameter? bias;

    public DiracConv2d(long inChannels, long outChannels, long kernel, long padding, bool bias) : base("Conv2d")
    {
        this.padding = padding;
        weight = Parameter(empty(outChannels, inChannels, kernel, kernel));
        init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        this.bias = bias ? Parameter(zeros(outChannels)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        functional.conv2d(input, MemoryFormat.ChannelsLast(weight), bias, padding: [padding, padding]);

    public string ExportOnnx(OnnxGraph g, string x) => g.Conv(x, weight, bias, [1, 1], [padding, padding], [1, 1], 1);

    /// <summary>Makes the first in-channels filters the identity (airbench's dirac init: an implicit
    /// residual connection at initialisation).</summary>
    public void InitializeIdentity()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long identity = Math.Min(weight.shape[0], weight.shape[1]);
        long centre = weight.shape[2] / 2;
        var slice = weight.narrow(0, 0, identity);
        slice.zero_();
        for (long c = 0; c < identity; c++)
            slice[c, c, centre, centre].fill_(1);
    }
}
