using Cifar10.Models;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// Resolves --precision to the dtype a network's convolutions compute in. "auto" is fp32: with
/// the libtorch 2.10 that TorchSharp 0.107 ships, bf16 convolutions and matmuls are slower than
/// fp32 even on a CPU with AVX-512 BF16 (measured on the project machine: a fast training step 176 vs 192 images/s back to back with
/// `bash bench/run.sh --models fast --batch 1024 --precision bf16` and `--precision fp32`),
/// and on CPUs without native bf16 libtorch emulates it at a small fraction of fp32 speed.
/// `--precision bf16` stays available for hardware and builds where it pays.
/// </summary>
public static class Precision
{
    public const string Auto = "auto", Fp32 = "fp32", Bf16 = "bf16";

    /// <summary>"fp32" or "bf16" for this model on this device.</summary>
    public static string Resolve(string requested, string model)
    {
        bool modelSupports = SupportsBf16(model);
        return requested switch
        {
            Fp32 => Fp32,
            Bf16 when !modelSupports => throw new ConfigException($"--precision bf16 needs a network that computes in bfloat16 (fast); '{model}' runs in fp32"),
            Bf16 => Bf16,
            Auto => Fp32,
            _ => throw new ConfigException($"unknown precision '{requested}'; choose auto, fp32 or bf16"),
        };
    }

    public static bool SupportsBf16(string model) => string.Equals(model, "fast", StringComparison.OrdinalIgnoreCase);

    /// <summary>Applies a resolved precision to a network (a no-op for fp32 networks).</summary>
    public static void Apply(nn.Module<Tensor, Tensor> model, string resolved)
    {
        if (model is FastNet fast)
            fast.ComputeType = resolved == Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        else if (resolved == Bf16)
            throw new ConfigException("only the fast network computes in bf16");
    }
}
