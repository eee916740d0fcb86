using System.Runtime.InteropServices;

namespace Cifar10.Runtime;

/// <summary>How the process holds libtorch's memory: freed memory goes back to the operating system once per epoch,
/// so that resident memory stays flat across a run, and large tensors live on huge pages, so that a step does not
/// spend its time in page faults (<see cref="ConfigureForTraining"/>).</summary>
/// <remarks>
/// Two things otherwise hold freed memory indefinitely. (1) Native objects that were not disposed
/// (TorchSharp handles, generators, state-dict copies made while saving) are freed only by their
/// finalizers, and without managed allocation pressure the GC rarely runs. (2) glibc's malloc keeps
/// libtorch's mid-sized activations (below its mmap threshold) in its arenas, which fragment and keep
/// their free pages. Together they made resident memory climb by 44% over the 10-epoch fast recipe
/// although no tensor outlived its step. A full collection and <c>malloc_trim(0)</c> run once per epoch,
/// outside the training steps (<see cref="ReleaseFreed"/>). Inside a step a block glibc takes from the OS
/// by mmap is faulted in afresh on every step, so the threshold (<see cref="ReturnLargeBlocksOnFree"/>) is a
/// trade of peak memory against page faults, and the large tensors above it live on huge pages
/// (<see cref="UseHugePages"/>).
/// </remarks>
public static class ProcessMemory
{
    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    const int MmapThresholdParameter = -3; // glibc's M_MMAP_THRESHOLD

    /// <summary>glibc's own setting of that threshold, read by malloc at the process's start.</summary>
    public const string MmapThresholdVariable = "MALLOC_MMAP_THRESHOLD_";

    /// <summary>libtorch's switch (c10/core/impl/alloc_cpu.cpp): tensors of 2 MiB and more are aligned to 2 MiB and
    /// madvise'd MADV_HUGEPAGE. Read once, at libtorch's first CPU allocation.</summary>
    public const string HugePagesVariable = "THP_MEM_ALLOC_ENABLE";

    /// <summary>Set once a glibc call is found missing (musl, macOS, Windows): both calls are then skipped.</summary>
    static bool noGlibc = !OperatingSystem.IsLinux();

    /// <summary>What the tool and the benchmarks call first, before any tensor exists; a library user who trains may
    /// too: <see cref="ReturnLargeBlocksOnFree"/> and <see cref="UseHugePages"/>.</summary>
    public static void ConfigureForTraining()
    {
        if (Environment.GetEnvironmentVariable(MmapThresholdVariable) is null) ReturnLargeBlocksOnFree();
        UseHugePages();
    }

    /// <summary>
    /// Makes glibc's malloc take every block of <paramref name="bytes"/> or more straight from the OS (mmap) and
    /// return it on free, instead of raising its threshold to 32 MiB after the first frees; smaller blocks come from
    /// its arenas, whose pages stay resident between steps. The value trades peak memory against page faults, and
    /// the trade depends on the batch (AMD EPYC family 26, `bash bench/allocator.sh`, README): at 4 MiB the fast
    /// recipe's batch-2000 step ran at 438 img/s against 365 at 32 MiB, with 2.22 against 2.40 GiB peak; at batch
    /// 128 every 4-32 MiB activation is faulted in afresh on every step, and 32 MiB made the tutorial network's step
    /// 2.1x faster. The tool trains at batch 2000, so 4 MiB; a user who trains small batches sets glibc's
    /// MALLOC_MMAP_THRESHOLD_ (e.g. 33554432), which <see cref="ConfigureForTraining"/> leaves as it is.
    /// Process-wide; does nothing where the C library is not glibc.
    /// </summary>
    public static void ReturnLargeBlocksOnFree(int bytes = 4 << 20) => CallGlibc(() =>
    {
        int done = MallOpt(MmapThresholdParameter, bytes);
        if (done == 1) mmapThresholdSet = bytes;
        return done;
    });

    /// <summary>The threshold set by <see cref="ReturnLargeBlocksOnFree"/> in this process, if any.</summary>
    static int? mmapThresholdSet;

    /// <summary>glibc's mmap threshold as this process runs with it, for config.json: e.g. "4194304 (fixed at start)",
    /// "MALLOC_MMAP_THRESHOLD_=4194304" (the user's), or "glibc's default (128 KiB, rising to 32 MiB)".</summary>
    public static string MmapThresholdState() =>
        noGlibc ? "n/a (not glibc)"
        : mmapThresholdSet is int bytes ? $"{bytes} (fixed at start)"
        : Environment.GetEnvironmentVariable(MmapThresholdVariable) is string value ? $"{MmapThresholdVariable}={value}"
        : "glibc's default (128 KiB, rising to 32 MiB)";

    /// <summary>
    /// Asks libtorch to back its large tensors with transparent huge pages (2 MiB instead of 4 KiB), unless
    /// <see cref="HugePagesVariable"/> is already set. A training step allocates its activations afresh (hundreds of
    /// MB at batch 2000), and the kernel faults and zeroes them in page-sized pieces on first touch: with 4 KiB pages
    /// that was most of the step on some of the project's VMs (fast network, batch 2000, bf16: 98.7 → 438 img/s on an
    /// AMD EPYC, `bash bench/allocator.sh`). Must run before libtorch's first CPU allocation, which reads the variable
    /// once; afterwards it changes nothing. Works where the kernel's transparent huge pages are "madvise" or "always"
    /// (<see cref="HugePagesState"/>); the variable goes through the C library's setenv, because .NET's
    /// Environment.SetEnvironmentVariable does not reach native code's getenv on Linux.
    /// </summary>
    public static void UseHugePages() => CallGlibc(() => SetEnv(HugePagesVariable, "1", overwrite: 0)); // a value the user set stands

    /// <summary>What a run's large tensors live on, for config.json: libtorch's switch and the kernel's mode,
    /// e.g. "THP_MEM_ALLOC_ENABLE=1, transparent_hugepage madvise".</summary>
    public static string HugePagesState()
    {
        string mode = "unknown";
        try
        {
            // "always [madvise] never": the bracketed word is the mode in force.
            var line = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
            int open = line.IndexOf('['), close = line.IndexOf(']');
            if (open >= 0 && close > open) mode = line[(open + 1)..close];
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return $"{HugePagesVariable}={NativeVariable(HugePagesVariable) ?? "unset"}, transparent_hugepage {mode}";
    }

    [DllImport("libc", EntryPoint = "getenv")]
    static extern IntPtr GetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    /// <summary>A variable as native code sees it (including one set through setenv by <see cref="UseHugePages"/>,
    /// which .NET's own copy of the environment misses), or null.</summary>
    static string? NativeVariable(string name)
    {
        if (noGlibc) return null;
        try
        {
            var value = GetEnv(name);
            return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Collects managed garbage (running finalizers, which free native memory) and returns free
    /// heap pages to the OS; the second step is skipped where the C library has no malloc_trim (musl, macOS, Windows).</summary>
    public static void ReleaseFreed()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        CallGlibc(() => MallocTrim(0));
    }

    static void CallGlibc(Func<int> call)
    {
        if (noGlibc) return;
        try
        {
            call();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            noGlibc = true;
        }
    }
}
