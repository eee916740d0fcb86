using System.Diagnostics;
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
/// outside the training steps (<see cref="ReleaseFreed"/>). Inside an epoch the opposite holds: memory glibc
/// gives back to the OS is faulted in afresh by the next step, so the heap keeps what a step frees
/// (<see cref="KeepFreedHeapUntilReleased"/>), only blocks above the mmap threshold go back on free
/// (<see cref="ReturnLargeBlocksOnFree"/>, a trade of peak memory against page faults), and those large tensors
/// live on huge pages (<see cref="UseHugePages"/>).
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
    const int TrimThresholdParameter = -1; // glibc's M_TRIM_THRESHOLD

    /// <summary>glibc's own setting of the mmap threshold, read by malloc at the process's start; a value the user
    /// set stands (<see cref="ConfigureForTraining"/>).</summary>
    public const string MmapThresholdVariable = "MALLOC_MMAP_THRESHOLD_";
    /// <summary>glibc's own setting of the trim threshold; a value the user set stands too.</summary>
    public const string TrimThresholdVariable = "MALLOC_TRIM_THRESHOLD_";

    /// <summary>libtorch's switch (c10/core/impl/alloc_cpu.cpp): tensors of 2 MiB and more are aligned to 2 MiB and
    /// madvise'd MADV_HUGEPAGE. Read once, at libtorch's first CPU allocation.</summary>
    public const string HugePagesVariable = "THP_MEM_ALLOC_ENABLE";

    /// <summary>Set once a glibc call is found missing (musl, macOS, Windows): both calls are then skipped.</summary>
    static bool noGlibc = !OperatingSystem.IsLinux();

    /// <summary>What the tool and the benchmarks call first, before any tensor exists; a library user who trains may
    /// too: <see cref="ReturnLargeBlocksOnFree"/>, <see cref="KeepFreedHeapUntilReleased"/> (each unless the user set
    /// glibc's variable for it) and <see cref="UseHugePages"/>.</summary>
    public static void ConfigureForTraining()
    {
        if (Environment.GetEnvironmentVariable(MmapThresholdVariable) is null) ReturnLargeBlocksOnFree();
        if (Environment.GetEnvironmentVariable(TrimThresholdVariable) is null) KeepFreedHeapUntilReleased();
        UseHugePages();
    }

    /// <summary>
    /// Makes glibc's malloc take every block of <paramref name="bytes"/> or more straight from the OS (mmap) and
    /// return it on free; smaller blocks come from its heap and are reused from step to step. A block taken by mmap
    /// is faulted in (and zeroed by the kernel) afresh on every step, so the threshold trades page faults against
    /// peak memory. The default, 32 MiB, is the most glibc allows and where its own adaptive threshold ends (as in a
    /// PyTorch process), fixed from the start so that a run's memory does not depend on its first frees. What it
    /// costs and saves against other thresholds: `bash bench/allocator.sh` (docs/benchmarks.md, the allocator).
    /// Process-wide; does nothing where the C library is not glibc.
    /// </summary>
    public static void ReturnLargeBlocksOnFree(int bytes = 32 << 20) =>
        mmapThresholdSet = SetMallocOption(MmapThresholdParameter, bytes) ?? mmapThresholdSet;

    /// <summary>
    /// Lets glibc keep the free memory at the top of its heap (up to 2 GiB) instead of handing it back to the OS
    /// whenever more than 128 KiB is free there: a fixed mmap threshold also freezes that trim threshold at glibc's
    /// default, and then every step gave back and faulted in again the heap its activations had just used; keeping it, with the 32 MiB threshold,
    /// cut the tutorial network's batch-128 page faults to a ninth. The memory is returned once per epoch instead, by
    /// <see cref="ReleaseFreed"/>, which the trainer calls. Process-wide; does nothing where the C library is not glibc.
    /// </summary>
    public static void KeepFreedHeapUntilReleased() =>
        trimThresholdSet = SetMallocOption(TrimThresholdParameter, int.MaxValue) ?? trimThresholdSet;

    /// <summary>glibc's mallopt: the value if glibc took it, else null.</summary>
    static int? SetMallocOption(int parameter, int value)
    {
        int? taken = null;
        CallGlibc(() =>
        {
            int done = MallOpt(parameter, value);
            if (done == 1) taken = value;
            return done;
        });
        return taken;
    }

    /// <summary>The thresholds set in this process by <see cref="ReturnLargeBlocksOnFree"/> and
    /// <see cref="KeepFreedHeapUntilReleased"/>, if they were.</summary>
    static int? mmapThresholdSet, trimThresholdSet;

    /// <summary>glibc's two thresholds as this process runs with them, for config.json, e.g.
    /// "mmap_threshold 33554432 (set at start), trim_threshold MALLOC_TRIM_THRESHOLD_=131072 (the user's)".</summary>
    public static string MallocState() =>
        noGlibc ? "n/a (not glibc)"
        : $"mmap_threshold {ThresholdState(mmapThresholdSet, MmapThresholdVariable, "128 KiB, rising to 32 MiB")}, "
          + $"trim_threshold {ThresholdState(trimThresholdSet, TrimThresholdVariable, "128 KiB, rising with the mmap threshold")}";

    static string ThresholdState(int? set, string variable, string glibcDefault) =>
        set is int bytes ? $"{bytes} (set at start)"
        : Environment.GetEnvironmentVariable(variable) is string value ? $"{variable}={value} (the user's)"
        : $"glibc's default ({glibcDefault})";

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

    /// <summary>
    /// Frees, soon after each training step, the small native objects that the step left to finalizers: call it once a
    /// step (the training step does). TorchSharp 0.107 makes a native Scalar of every plain number passed to a tensor
    /// op and leaves it to the garbage collector (dotnet/TorchSharp#1434); its optimizers pass three or four per
    /// parameter per update (weight decay, momentum, learning rate). The collector rarely runs in a training loop, so
    /// those blocks live on in glibc's heap between the step's freed tensors, which the next step then cannot reuse:
    /// the heap grew by up to the size of the gradients per step and every step faulted in fresh pages
    /// (docs/benchmarks.md, Scalars left to finalizers). A generation-0 collection finds them dead; the finalizer
    /// thread frees them while the next step starts. It runs at most every <see cref="StepGarbageInterval"/>, so that
    /// steps of a few milliseconds (a small network, a small batch) do not pay for a collection each.
    /// </summary>
    public static void CollectStepGarbage()
    {
        long now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(lastStepCollection, now) < StepGarbageInterval) return;
        lastStepCollection = now;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
    }

    /// <summary>The shortest time between two collections of <see cref="CollectStepGarbage"/>.</summary>
    public static readonly TimeSpan StepGarbageInterval = TimeSpan.FromMilliseconds(100);

    static long lastStepCollection;

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
