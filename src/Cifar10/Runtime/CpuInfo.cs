using System.Runtime.InteropServices;

namespace Cifar10.Runtime;

/// <summary>The CPU as Linux describes it in /proc/cpuinfo: its name, vendor, family, model and feature flags
/// (the architecture's name and nothing else elsewhere).</summary>
internal sealed record CpuInfo(string Name, string Vendor, string Family, string Model, IReadOnlySet<string> Flags)
{
    /// <summary>This machine's CPU, read once.</summary>
    public static CpuInfo Current { get; } = Read();

    /// <summary>For config.json and the benchmarks (bench/machine.sh says the same): a VM's model name can be as bare
    /// as "AMD EPYC", so the family, model and widest vector unit come with it.</summary>
    public string Description
    {
        get
        {
            if (Family.Length == 0) return Name;
            string vectors = Flags.Contains("avx512_bf16") ? "AVX-512 with BF16"
                : Flags.Contains("avx512f") ? "AVX-512 without BF16"
                : Flags.Contains("avx2") ? "AVX2, no AVX-512" : "no AVX2";
            return $"{Name} (family {Family} model {Model}, {vectors}{(Flags.Contains("amx_bf16") ? ", AMX" : "")})";
        }
    }

    /// <summary>
    /// Whether bfloat16 convolutions outrun float32 ones here: where the CPU's bf16 dot products do twice the
    /// multiply-adds of its float32 FMAs per cycle. That is AMX (Intel from Sapphire Rapids on, where the VM exposes
    /// it) and AMD's AVX-512 BF16 (Zen 4 and 5). Not Intel's AVX-512 BF16 alone (Cooper Lake, Sapphire Rapids without
    /// AMX): its vdpbf16ps issues at half the rate of an FMA, so bf16 only adds casts. The measurements:
    /// docs/benchmarks.md#precision-bf16-and-memory-layout.
    /// </summary>
    public bool FastBfloat16 =>
        Flags.Contains("amx_bf16") || (Vendor == "AuthenticAMD" && Flags.Contains("avx512_bf16"));

    /// <summary>Whether the CPU has bf16 instructions at all (AVX-512 BF16, AMX, or AVX-NE-CONVERT). Without them
    /// oneDNN has no bf16 kernels for it and libtorch computes bf16 through slow generic code.</summary>
    public bool NativeBfloat16 =>
        Flags.Contains("avx512_bf16") || Flags.Contains("amx_bf16") || Flags.Contains("avx_ne_convert");

    static CpuInfo Read()
    {
        string name = RuntimeInformation.ProcessArchitecture.ToString(), vendor = "", family = "", model = "";
        var flags = new HashSet<string>();
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon < 0) continue;
                string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                if (key == "model name") name = value;
                else if (key == "vendor_id") vendor = value;
                else if (key == "cpu family") family = value;
                else if (key == "model") model = value;
                else if (key == "flags") flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                else if (key.Length == 0) break; // the first processor's block is enough
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new CpuInfo(name, vendor, family, model, flags);
    }
}
