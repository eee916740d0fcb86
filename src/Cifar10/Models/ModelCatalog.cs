using static TorchSharp.torch;

namespace Cifar10.Models;

/// <summary>Construction options shared by every network; each model uses the ones that apply to it.</summary>
/// <param name="NumClasses">Width of the output logits.</param>
/// <param name="Dropout">Dropout probability in [0, 1), or null for the model's own default. Only for models with
/// <see cref="ModelInfo.HasDropout"/>; giving it to any other model is an error rather than silently ignored.</param>
/// <param name="Depth">Number of conv blocks, for models with <see cref="ModelInfo.Depths"/> (tutorial: 2..4).</param>
public sealed record ModelOptions(int NumClasses = 10, double? Dropout = null, int Depth = 3);

/// <summary>
/// A network the toolkit can build: its name, where it comes from, the recipe it trains with by
/// default and the options it takes. What it can do beyond its layers (bf16, data-dependent
/// initialisation, per-epoch changes) it declares itself through the interfaces in Capabilities.cs.
/// </summary>
public sealed record ModelInfo
{
    /// <summary>The name <c>--model</c> takes and config.json records: lower case, no spaces, commas, '=' or '/'.</summary>
    public required string Name { get; init; }
    /// <summary>One line on the network's layers, for <c>cifar10 models</c>.</summary>
    public string Description { get; init; } = "";
    /// <summary>Where the network comes from (a write-up, a repository and file).</summary>
    public string Source { get; init; } = "";
    /// <summary>The test accuracy its source reports, as text.</summary>
    public string ReportedAccuracy { get; init; } = "not reported";
    /// <summary>The recipe (<c>Training.Recipes</c>) `train` starts from for this network.</summary>
    public string DefaultRecipe { get; init; } = "classic";
    /// <summary>Whether the network takes a dropout probability (<see cref="ModelOptions.Dropout"/>, <c>--dropout</c>).</summary>
    public bool HasDropout { get; init; }
    /// <summary>The depths the network accepts, or null when it has no depth option.</summary>
    public (int Min, int Max)? Depths { get; init; }
    /// <summary>Whether the network takes a depth (<see cref="ModelOptions.Depth"/>, <c>--depth</c>).</summary>
    public bool HasDepth => Depths is not null;
    /// <summary>The class the factory builds, so capabilities can be known without building one.</summary>
    public required Type NetworkType { get; init; }
    /// <summary>Builds a freshly initialised network from its options; <see cref="Create"/> checks the options first.</summary>
    public required Func<ModelOptions, nn.Module<Tensor, Tensor>> Factory { get; init; }

    /// <summary>Whether the network can compute in bfloat16 (it implements <see cref="IMixedPrecision"/>): <c>--precision bf16</c>, and <c>auto</c> on a CPU where that is faster.</summary>
    public bool SupportsBf16 => typeof(IMixedPrecision).IsAssignableFrom(NetworkType);

    /// <summary>Whether <c>--precision auto</c> picks bf16 for this network on a CPU fast at bf16 (it must
    /// <see cref="SupportsBf16"/>); false for a network whose step measured slower in bf16 than in fp32 there, so that
    /// <c>auto</c> never slows a run down (docs/benchmarks.md, "Precision (bf16) and memory layout").</summary>
    public bool PrefersBf16 { get; init; } = true;

    /// <summary>Whether the network takes images smaller than 32×32 (it implements <see cref="IAnyImageSize"/>): <c>--low-res</c>.</summary>
    public bool AcceptsAnyImageSize => typeof(IAnyImageSize).IsAssignableFrom(NetworkType);

    /// <summary>An entry for the network <typeparamref name="TNetwork"/>; add description, source and options with <c>with</c>.</summary>
    public static ModelInfo For<TNetwork>(string name, Func<ModelOptions, TNetwork> create) where TNetwork : nn.Module<Tensor, Tensor> =>
        new() { Name = name, NetworkType = typeof(TNetwork), Factory = create };

    /// <summary>Builds the network. Throws <see cref="ConfigException"/> for a dropout given to a network without
    /// dropout; the constructors reject values out of range (ArgumentOutOfRangeException).</summary>
    public nn.Module<Tensor, Tensor> Create(ModelOptions? options = null)
    {
        options ??= new ModelOptions();
        if (options.Dropout is not null && !HasDropout)
            throw new ConfigException($"model '{Name}' has no dropout layer, so a dropout probability cannot be set; " +
                                      $"models with dropout: {ModelCatalog.NamesWhere(m => m.HasDropout)}");
        return Factory(options);
    }
}

/// <summary>
/// The registry of networks, looked up by name (case-insensitive). The built-in ones are listed
/// here; <see cref="Register"/> adds a network defined elsewhere, which then trains, checkpoints,
/// resumes, evaluates, predicts and sweeps like a built-in one.
/// </summary>
public static class ModelCatalog
{
    private const string KuangliuRepo = "https://github.com/kuangliu/pytorch-cifar";

    private static readonly List<ModelInfo> Entries =
    [
        ModelInfo.For("simple", o => new SimpleNet(o.NumClasses)) with
        {
            Description = "conv 5x5 (8) + max-pool, conv 3x3 (16) + avg-pool, FC 576-128-32-10",
            Source = "classic simple-CNN CIFAR-10 write-up",
            ReportedAccuracy = "54%",
            // The fastest recipe to the write-up's figure measured by bench/writeups.sh (docs/writeups.md).
            DefaultRecipe = "simple-best",
        },
        ModelInfo.For("deep", o => o.Dropout is { } p ? new DeepNet(o.NumClasses, dropout1: p, dropout2: p) : new DeepNet(o.NumClasses)) with
        {
            Description = "eight unpadded 3x3 convs (20..72), non-affine BatchNorm, FC 1152-256-64-32-16-10 with dropout " +
                          $"({DeepNet.DefaultDropout1} and {DeepNet.DefaultDropout2}; --dropout sets both)",
            Source = "deeper-CNN step of the same write-up",
            ReportedAccuracy = "69%",
            // The fastest recipe to the write-up's figure measured by bench/writeups.sh (docs/writeups.md).
            DefaultRecipe = "deep-best",
            HasDropout = true,
        },
        ModelInfo.For("wide", o => new WideNet(o.NumClasses, o.Dropout ?? WideNet.DefaultDropout)) with
        {
            Description = $"six convs 64..256 with BatchNorm in one flat 23-layer stack, FC 256-256-10, dropout {WideNet.DefaultDropout}",
            Source = "torchinfo-tabled wide CNN (Conv2d: 1-1 ... Linear: 1-23, 2,211,338 params)",
            HasDropout = true,
            // The best this toolkit measured within 15 minutes on 2 cores (bench/writeups.sh, docs/writeups.md).
            DefaultRecipe = "wide-best",
        },
        ModelInfo.For("tutorial", o => new TutorialNet(o.NumClasses, o.Depth)) with
        {
            Description = $"{TutorialNet.MinDepth}..{TutorialNet.MaxDepth} blocks of conv 3x3 + ReLU + max-pool (16, 32, 64, 128), one FC",
            Source = "introductory CNN tutorial (two-layer / layer 3 / layer 4 comparison)",
            Depths = (TutorialNet.MinDepth, TutorialNet.MaxDepth),
            DefaultRecipe = "tutorial-best",
        },
        ModelInfo.For("vgg16", o => new Vgg16(o.NumClasses, o.Dropout ?? 0)) with
        {
            Description = "VGG-16 with BatchNorm for 32x32 input, Linear(512, 10) (--dropout adds dropout before it; none by default)",
            Source = $"{KuangliuRepo} models/vgg.py",
            ReportedAccuracy = "92.64%",
            HasDropout = true,
            // The best this toolkit measured within 15 minutes on 2 cores (bench/writeups.sh, docs/writeups.md).
            DefaultRecipe = "vgg16-best",
        },
        ModelInfo.For("resnet18", o => new ResNet18Cifar(o.NumClasses)) with
        {
            Description = "CIFAR ResNet-18: 3x3 stride-1 stem, no max-pool, BasicBlock [2,2,2,2], avg-pool 4",
            Source = $"{KuangliuRepo} models/resnet.py",
            ReportedAccuracy = "93.02%",
        },
        ModelInfo.For("resnet18-imagenet", o => new ResNet18ImageNet(o.NumClasses)) with
        {
            Description = "torchvision ResNet-18 layout: 7x7/2 stem, 3x3/2 max-pool, adaptive avg-pool, fc",
            Source = "https://github.com/pytorch/vision torchvision/models/resnet.py",
            ReportedAccuracy = "71% after 8 epochs",
            // The fastest recipe to the write-up's figure measured by bench/writeups.sh (docs/writeups.md).
            DefaultRecipe = "resnet18-imagenet-best",
        },
        ModelInfo.For("fast", o => new FastNet(o.NumClasses)) with
        {
            Description = "airbench94: frozen 2x2 patch-whitening conv (24), three conv-pool-BN-GELU blocks (64, 256, 256), linear head",
            Source = "https://github.com/KellerJordan/cifar10-airbench airbench94.py",
            ReportedAccuracy = "94.01% in 9.9 epochs (airbench94's recipe); 94.01% in 8 (airbench94_muon's, which the default of `train` adapts)",
            // Measured on this data by bench/time-to-accuracy.sh: muon reaches airbench94's accuracy in less time.
            DefaultRecipe = "muon",
        },
    ];

    /// <summary>Every registered network, built-in ones first.</summary>
    public static IReadOnlyList<ModelInfo> All
    {
        get { lock (Entries) return Entries.ToArray(); }
    }

    /// <summary>The networks this toolkit ships (without those registered since).</summary>
    public static IReadOnlyList<ModelInfo> BuiltIn { get; } = Entries.ToArray();

    /// <summary>The names of all networks, comma-separated (for help texts and errors).</summary>
    public static string Names => NamesWhere(_ => true);

    /// <summary>The names of the networks that satisfy <paramref name="predicate"/>, comma-separated (for messages).</summary>
    public static string NamesWhere(Func<ModelInfo, bool> predicate) => string.Join(", ", All.Where(predicate).Select(e => e.Name));

    /// <summary>Whether a network of that name (ignoring case) is registered.</summary>
    public static bool Contains(string name) => Find(name) is not null;

    /// <summary>Looks a network up by name, ignoring case; <see cref="ConfigException"/> names the choices when there is none.</summary>
    public static ModelInfo Get(string name) =>
        Find(name) ?? throw new ConfigException($"unknown model '{name}'; choose one of: {Names}");

    /// <summary>Builds the named network.</summary>
    public static nn.Module<Tensor, Tensor> Create(string name, ModelOptions? options = null) => Get(name).Create(options);

    /// <summary>
    /// Adds a network, e.g. <c>ModelCatalog.Register(ModelInfo.For("mlp", o =&gt; new Mlp(o.NumClasses)))</c>.
    /// Registering the same entry again is a no-op; another entry under a taken name is an error.
    /// </summary>
    public static ModelInfo Register(ModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (string.IsNullOrWhiteSpace(info.Name) || info.Name.Any(c => char.IsWhiteSpace(c) || c is ',' or '=' or '/'))
            throw new ArgumentException($"a model name must be non-empty without spaces, ',', '=' or '/' (got '{info.Name}')", nameof(info));
        lock (Entries)
        {
            if (Find(info.Name) is { } existing)
            {
                if (existing == info) return existing;
                throw new ArgumentException($"a model named '{info.Name}' is already registered", nameof(info));
            }
            Entries.Add(info with { Name = info.Name.ToLowerInvariant() });
            return Entries[^1];
        }
    }

    private static ModelInfo? Find(string? name)
    {
        lock (Entries)
            return Entries.FirstOrDefault(e => string.Equals(e.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
    }
}
