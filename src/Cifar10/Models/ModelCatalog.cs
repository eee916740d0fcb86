using static TorchSharp.torch;

namespace Cifar10.Models;

/// <summary>Construction options shared by every network; each model uses the ones that apply to it.</summary>
/// <param name="NumClasses">Width of the output logits.</param>
/// <param name="Dropout">Dropout probability in [0, 1), or null for the model's own default. Only for models with
/// <see cref="ModelInfo.HasDropout"/>; giving it to any other model is an error rather than silently ignored.</param>
/// <param name="Depth">Number of conv blocks, for models with <see cref="ModelInfo.HasDepth"/> (tutorial: 2..4).</param>
public sealed record ModelOptions(int NumClasses = 10, double? Dropout = null, int Depth = 3);

/// <summary>A network the toolkit can build, with where it comes from.</summary>
public sealed record ModelInfo(
    string Name,
    string Description,
    string Source,
    string ReportedAccuracy,
    bool HasDropout,
    bool HasDepth,
    Func<ModelOptions, nn.Module<Tensor, Tensor>> Create);

/// <summary>The registry of networks, looked up by name (case-insensitive).</summary>
public static class ModelCatalog
{
    private const string KuangliuRepo = "https://github.com/kuangliu/pytorch-cifar";

    private static readonly ModelInfo[] Entries =
    [
        Entry("simple",
            "conv 5x5 (8) + max-pool, conv 3x3 (16) + avg-pool, FC 576-128-32-10",
            "classic simple-CNN CIFAR-10 write-up",
            "54%",
            hasDropout: false, hasDepth: false,
            o => new SimpleNet(o.NumClasses)),
        Entry("deep",
            "eight unpadded 3x3 convs (20..72), non-affine BatchNorm, FC 1152-256-64-32-16-10 with dropout " +
            $"({DeepNet.DefaultDropout1} and {DeepNet.DefaultDropout2}; --dropout sets both)",
            "deeper-CNN step of the same write-up",
            "69%",
            hasDropout: true, hasDepth: false,
            o => o.Dropout is { } p
                ? new DeepNet(o.NumClasses, dropout1: p, dropout2: p)
                : new DeepNet(o.NumClasses)),
        Entry("wide",
            $"six convs 64..256 with BatchNorm in one flat 23-layer stack, FC 256-256-10, dropout {WideNet.DefaultDropout}",
            "torchinfo-tabled wide CNN (Conv2d: 1-1 ... Linear: 1-23, 2,211,338 params)",
            "not reported",
            hasDropout: true, hasDepth: false,
            o => new WideNet(o.NumClasses, o.Dropout ?? WideNet.DefaultDropout)),
        Entry("tutorial",
            $"{TutorialNet.MinDepth}..{TutorialNet.MaxDepth} blocks of conv 3x3 + ReLU + max-pool (16, 32, 64, 128), one FC",
            "introductory CNN tutorial (two-layer / layer 3 / layer 4 comparison)",
            "not reported",
            hasDropout: false, hasDepth: true,
            o => new TutorialNet(o.NumClasses, o.Depth)),
        Entry("vgg16",
            "VGG-16 with BatchNorm for 32x32 input, Linear(512, 10)",
            $"{KuangliuRepo} models/vgg.py",
            "92.64%",
            hasDropout: false, hasDepth: false,
            o => new Vgg16(o.NumClasses)),
        Entry("resnet18",
            "CIFAR ResNet-18: 3x3 stride-1 stem, no max-pool, BasicBlock [2,2,2,2], avg-pool 4",
            $"{KuangliuRepo} models/resnet.py",
            "93.02%",
            hasDropout: false, hasDepth: false,
            o => new ResNet18Cifar(o.NumClasses)),
        Entry("resnet18-imagenet",
            "torchvision ResNet-18 layout: 7x7/2 stem, 3x3/2 max-pool, adaptive avg-pool, fc",
            "https://github.com/pytorch/vision torchvision/models/resnet.py",
            "71% after 8 epochs",
            hasDropout: false, hasDepth: false,
            o => new ResNet18ImageNet(o.NumClasses)),

        Entry("fast",
            "airbench94: frozen 2x2 patch-whitening conv (24), three conv-pool-BN-GELU blocks (64, 256, 256), linear head",
            "https://github.com/KellerJordan/cifar10-airbench airbench94.py",
            "94.01% in 9.9 epochs (with its recipe, the default of `train`)",
            hasDropout: false, hasDepth: false,
            o => new FastNet(o.NumClasses)),
    ];

    /// <summary>Every registered network, in presentation order.</summary>
    public static IReadOnlyList<ModelInfo> All => Entries;

    /// <summary>The names of all networks, comma-separated (for help texts and errors).</summary>
    public static string Names => string.Join(", ", Entries.Select(e => e.Name));

    /// <summary>Looks a network up by name, ignoring case.</summary>
    /// <exception cref="ArgumentException">No network has that name.</exception>
    public static ModelInfo Get(string name)
    {
        var info = Entries.FirstOrDefault(e => string.Equals(e.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return info ?? throw new ArgumentException($"unknown model '{name}'; choose one of: {Names}", nameof(name));
    }

    /// <summary>Builds the named network.</summary>
    /// <exception cref="ArgumentException">Unknown name, or a dropout given to a network without dropout.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Dropout outside [0, 1), depth or class count out of range.</exception>
    public static nn.Module<Tensor, Tensor> Create(string name, ModelOptions? options = null) =>
        Get(name).Create(options ?? new ModelOptions());

    // The stored factory validates first, so ModelInfo.Create is as safe to call as ModelCatalog.Create.
    private static ModelInfo Entry(string name, string description, string source, string accuracy,
        bool hasDropout, bool hasDepth, Func<ModelOptions, nn.Module<Tensor, Tensor>> factory) =>
        new(name, description, source, accuracy, hasDropout, hasDepth, options =>
        {
            ArgumentNullException.ThrowIfNull(options);
            Validate(name, hasDropout, options);
            return factory(options);
        });

    private static void Validate(string name, bool hasDropout, ModelOptions options)
    {
        if (options.NumClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.NumClasses,
                $"the number of classes must be at least 1, got {options.NumClasses}");
        if (options.Dropout is not { } p)
            return;
        if (!hasDropout)
            throw new ArgumentException(
                $"model '{name}' has no dropout layer, so a dropout probability cannot be set; " +
                $"models with dropout: {string.Join(", ", Entries.Where(e => e.HasDropout).Select(e => e.Name))}",
                nameof(options));
        if (double.IsNaN(p) || p < 0.0 || p >= 1.0)
            throw new ArgumentOutOfRangeException(nameof(options), p, $"dropout probability must be in [0, 1), got {p}");
    }
}
