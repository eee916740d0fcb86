using Cifar10.Models;
using Cifar10.Runtime;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// Resolves --precision to the dtype a network's convolutions compute in. "auto" is bf16 for a network that
/// can compute in it (<see cref="IMixedPrecision"/>) and prefers it (<see cref="ModelInfo.PrefersBf16"/>) on a CPU whose bf16 arithmetic outruns its fp32
/// (AMX, or AMD's AVX-512 BF16), and fp32 everywhere else: with the libtorch 2.10 that TorchSharp 0.107
/// ships, bf16 only pays where the hardware does bf16 dot products at twice the fp32 rate.
/// </summary>
public static class Precision
{
    /// <summary>Fp32 or Bf16 for <paramref name="model"/> on this machine's CPU (what <c>auto</c> becomes before a run
    /// starts, so that config.json records the precision it trained in); Bf16 requested for a network that cannot
    /// compute in it is a <see cref="ConfigException"/>.</summary>
    public static PrecisionMode Resolve(PrecisionMode requested, ModelInfo model) => Resolve(requested, model, CpuInfo.Current);

    /// <summary><see cref="Resolve(PrecisionMode, ModelInfo)"/> on <paramref name="cpu"/>.</summary>
    internal static PrecisionMode Resolve(PrecisionMode requested, ModelInfo model, CpuInfo cpu) => requested switch
    {
        PrecisionMode.Bf16 when !model.SupportsBf16 => throw new ConfigException(Bf16Unsupported(model)),
        PrecisionMode.Bf16 when Autocast.Unavailable is { } reason => throw new ConfigException($"--precision bf16 is not available: {reason}"),
        PrecisionMode.Bf16 => PrecisionMode.Bf16,
        PrecisionMode.Auto when model.SupportsBf16 && model.PrefersBf16 && cpu.FastBfloat16 && Autocast.Unavailable is null => PrecisionMode.Bf16,
        _ => PrecisionMode.Fp32,
    };

    /// <summary>
    /// The precision a checkpoint computes in when loaded (test, eval, predict, serve, export): the one it trained in,
    /// except bf16 on a CPU without bf16 instructions, where libtorch's generic bf16 code is many times slower than
    /// fp32 (docs/benchmarks.md#precision-bf16-and-memory-layout), so a network trained in bf16 on one machine and
    /// used on such another computes in fp32 there, on the same float32 weights.
    /// </summary>
    public static PrecisionMode ForInference(PrecisionMode trained) => ForInference(trained, CpuInfo.Current);

    /// <summary><see cref="ForInference(PrecisionMode)"/> on <paramref name="cpu"/>.</summary>
    internal static PrecisionMode ForInference(PrecisionMode trained, CpuInfo cpu) =>
        trained == PrecisionMode.Bf16 && !cpu.NativeBfloat16 ? PrecisionMode.Fp32 : trained;

    /// <summary>A warning for a run that computes in bf16 on a CPU where that is slower than fp32 (asked for with
    /// --precision bf16, since auto chooses fp32 there), or null.</summary>
    public static string? SlowBf16Warning(PrecisionMode resolved) => SlowBf16Warning(resolved, CpuInfo.Current);

    /// <summary><see cref="SlowBf16Warning(PrecisionMode)"/> on <paramref name="cpu"/>.</summary>
    internal static string? SlowBf16Warning(PrecisionMode resolved, CpuInfo cpu) =>
        resolved != PrecisionMode.Bf16 || cpu.FastBfloat16 ? null
        : cpu.NativeBfloat16
            ? $"warning: bf16 is no faster than fp32 on this CPU ({cpu.Description}: bf16 dot products at half the rate of its fp32 multiply-adds); --precision auto chooses fp32 here"
            : $"warning: this CPU has no bf16 instructions ({cpu.Description}), so bf16 runs through slow generic code, many times slower than fp32; --precision auto chooses fp32 here";

    /// <summary>Why --precision bf16 is refused for <paramref name="model"/>, a network that computes only in fp32.</summary>
    internal static string Bf16Unsupported(ModelInfo model) =>
        $"--precision bf16 needs a network that computes in bfloat16 ({ModelCatalog.NamesWhere(m => m.SupportsBf16)}); '{model.Name}' runs in fp32";

    /// <summary>
    /// The scope a network's forward pass (and its loss) runs in: libtorch's autocast in the network's compute
    /// type when that is bfloat16, else nothing. The training step and the evaluator
    /// (validation, test, predict, serve) enter it, so every network that declares <see cref="IMixedPrecision"/>
    /// gets mixed precision from this one mechanism, with no casts of its own.
    /// </summary>
    public static IDisposable ForwardScope(nn.Module model) =>
        model is IMixedPrecision { ComputeType: ScalarType.BFloat16 } ? new Autocast(ScalarType.BFloat16) : NoScope.Instance;

    sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();
        public void Dispose() { }
    }

    /// <summary>Applies a resolved precision to a network (a no-op for fp32 networks).</summary>
    public static void Apply(nn.Module<Tensor, Tensor> model, PrecisionMode resolved)
    {
        if (model is IMixedPrecision mixed)
            mixed.ComputeType = resolved == PrecisionMode.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        else if (resolved == PrecisionMode.Bf16)
            throw new ConfigException($"{model.GetType().Name} computes only in fp32");
    }
}
