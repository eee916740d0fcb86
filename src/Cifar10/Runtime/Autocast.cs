using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Cifar10.Runtime;

/// <summary>
/// libtorch's own automatic mixed precision (what <c>torch.autocast("cpu", dtype=torch.bfloat16)</c> does in
/// PyTorch), which TorchSharp 0.107 does not wrap: inside a scope, on this thread, convolutions, linear layers
/// and matrix products compute in the scope's dtype from float32 weights (the cast is part of the autograd
/// graph, so gradients reach the float32 master weights), and the ops autocast keeps in float32 (softmax,
/// log-softmax, the losses) run in float32. The switches are libtorch C++ functions (at::autocast::*, exported by
/// libtorch_cpu) called by their Itanium-ABI names: plain functions of enum (int8) and bool arguments.
/// </summary>
internal sealed class Autocast : IDisposable
{
    const string LibTorch = "torch_cpu";
    const sbyte Cpu = 0; // c10::DeviceType::CPU

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE")]
    [return: MarshalAs(UnmanagedType.U1)]
    static extern bool IsEnabled(sbyte device);

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb")]
    static extern void SetEnabled(sbyte device, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE")]
    static extern sbyte GetDtype(sbyte device);

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")]
    static extern void SetDtype(sbyte device, sbyte dtype);

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast17increment_nestingEv")]
    static extern long IncrementNesting();

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast17decrement_nestingEv")]
    static extern long DecrementNesting();

    [DllImport(LibTorch, EntryPoint = "_ZN2at8autocast11clear_cacheEv")]
    static extern void ClearCache();

    static readonly Lazy<string?> unavailable = new(Probe);

    /// <summary>Null when this libtorch has the autocast functions, else why not (another libtorch build or platform).</summary>
    public static string? Unavailable => unavailable.Value;

    readonly bool wasEnabled;
    readonly sbyte previousDtype;
    bool disposed;

    /// <summary>Computes in <paramref name="dtype"/> on this thread until disposed (scopes nest, as in PyTorch).</summary>
    public Autocast(ScalarType dtype)
    {
        if (Unavailable is { } reason) throw new ConfigException($"mixed precision is not available: {reason}");
        wasEnabled = IsEnabled(Cpu);
        previousDtype = GetDtype(Cpu);
        SetDtype(Cpu, (sbyte)dtype);
        SetEnabled(Cpu, true);
        IncrementNesting();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        // The outermost scope drops the weight casts autocast cached for the region.
        if (DecrementNesting() == 0) ClearCache();
        SetEnabled(Cpu, wasEnabled);
        SetDtype(Cpu, previousDtype);
    }

    static string? Probe()
    {
        try
        {
            using (zeros(1)) { } // libtorch is loaded by TorchSharp's first tensor; the lookup below finds it loaded
            _ = IsEnabled(Cpu);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"libtorch_cpu exports no at::autocast functions here ({e.GetType().Name})";
        }
    }
}
