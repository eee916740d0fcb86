using Cifar10.Models;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// Resolves --precision to the dtype a network's convolutions compute in. "auto" is fp32: with
/// the libtorch 2.10 that TorchSharp 0.107 ships, bf16 convolutions and matmuls are slower than
/// fp32 even on a CPU with AVX-512 BF16 (measured on the project machine: a fast training step 176 vs 192 images/s back to back with
/// `bash bench/run.sh --models fast --batch 1024 --precision bf16` and `--precision fp32`),
/// and on CPUs without native bf16 libtorch emulates it at a small fraction of fp32 speed.
/// `--precision bf16` stays available for hardware and builds where it pays. Which networks can
/// compute in bf16 they declare themselves (<see cref="IMixedPrecision"/>).
/// </summary>
public static class Precision
{
    /// <summary>Fp32 or Bf16 for this network; Bf16 for a network that cannot is a <see cref="ConfigException"/>.</summary>
    public static PrecisionMode Resolve(PrecisionMode requested, ModelInfo model) => requested switch
    {
        PrecisionMode.Bf16 when !model.SupportsBf16 =>
            throw new ConfigException($"--precision bf16 needs a network that computes in bfloat16 ({ModelCatalog.NamesWhere(m => m.SupportsBf16)}); '{model.Name}' runs in fp32"),
        PrecisionMode.Bf16 => PrecisionMode.Bf16,
        _ => PrecisionMode.Fp32,
    };

    /// <summary>Applies a resolved precision to a network (a no-op for fp32 networks).</summary>
    public static void Apply(nn.Module<Tensor, Tensor> model, PrecisionMode resolved)
    {
        if (model is IMixedPrecision mixed)
            mixed.ComputeType = resolved == PrecisionMode.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        else if (resolved == PrecisionMode.Bf16)
            throw new ConfigException($"{model.GetType().Name} computes only in fp32");
    }
}
