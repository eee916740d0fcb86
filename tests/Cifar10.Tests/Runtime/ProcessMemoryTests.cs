using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Cifar10.Runtime;
using Xunit;

namespace Cifar10.Tests.Runtime;

[Collection(GlobalTorchState.Name)] // it measures the process's resident memory, which a parallel test's frees would move
public class ProcessMemoryTests
{
    const int BlockBytes = 64 * 1024; // below glibc's mmap threshold: served from the heap, as mid-sized activations are
    const int Blocks = 3000;          // about 190 MiB

    [Fact]
    public void FreedHeapMemoryIsReturnedToTheSystem()
    {
        if (!OperatingSystem.IsLinux()) return; // malloc_trim is glibc's; elsewhere the call is a no-op

        var ones = Enumerable.Repeat((byte)1, BlockBytes).ToArray();
        var blocks = new IntPtr[Blocks];
        for (int i = 0; i < Blocks; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(BlockBytes); // malloc on Unix
            Marshal.Copy(ones, 0, blocks[i], BlockBytes); // touch every page so it is resident
        }
        // Free all but the last block: it pins the top of the heap, so free() itself cannot shrink it,
        // the situation that made resident memory climb across epochs.
        for (int i = 0; i < Blocks - 1; i++) Marshal.FreeHGlobal(blocks[i]);
        try
        {
            long before = ResidentBytes();
            ProcessMemory.ReleaseFreed();
            long after = ResidentBytes();
            Assert.True(before - after > 100L << 20, $"resident memory fell by {(before - after) >> 20} MiB of ~{(long)Blocks * BlockBytes >> 20} MiB freed");
        }
        finally
        {
            Marshal.FreeHGlobal(blocks[^1]);
        }
    }

    [Fact]
    public void TensorsLeftToTheFinalizerAreFreed()
    {
        // A tensor nobody disposed holds its native memory until the GC runs its finalizer.
        AllocateAndDrop();
        long before = ResidentBytes();
        ProcessMemory.ReleaseFreed();
        long after = ResidentBytes();
        Assert.True(before - after > 100L << 20, $"resident memory fell by {(before - after) >> 20} MiB of 200 MiB held by an undisposed tensor");
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // so no local keeps the tensor reachable
    static void AllocateAndDrop() => TorchSharp.torch.ones(50L << 20).DetachFromDisposeScope();

    [Fact]
    public void ReleasingWithNothingFreedIsHarmless()
    {
        ProcessMemory.ReleaseFreed();
        ProcessMemory.ReleaseFreed();
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetNativeVariable([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [Fact]
    public void HugePagesAreAskedOfLibtorchUnlessTheUserChoseOtherwise()
    {
        if (!OperatingSystem.IsLinux()) return; // setenv is the C library's; elsewhere the call is a no-op
        // libtorch read the variable at this process's first allocation, so changing it here affects no other test.
        SetNativeVariable(ProcessMemory.HugePagesVariable, "0", overwrite: 1); // a user's "off"
        ProcessMemory.UseHugePages();
        Assert.StartsWith($"{ProcessMemory.HugePagesVariable}=0, transparent_hugepage ", ProcessMemory.HugePagesState());

        Assert.Equal(0, UnsetNativeVariable(ProcessMemory.HugePagesVariable));
        ProcessMemory.UseHugePages();
        Assert.Matches($"^{ProcessMemory.HugePagesVariable}=1, transparent_hugepage (always|madvise|never|unknown)$", ProcessMemory.HugePagesState());
    }

    [Fact]
    public void TheMallocThresholdsAreFixedAndRecorded()
    {
        if (!OperatingSystem.IsLinux()) return; // mallopt is glibc's; elsewhere the calls are no-ops
        // config.json records them: they change a step's speed and the run's peak memory (README, Benchmarks).
        ProcessMemory.ReturnLargeBlocksOnFree();
        ProcessMemory.KeepFreedHeapUntilReleased();
        Assert.Equal("mmap_threshold 33554432 (set at start), trim_threshold 2147483647 (set at start)", ProcessMemory.MallocState());
    }

    [Fact]
    public void HeapMemoryFreedWithinAnEpochIsKeptForTheNextStep()
    {
        if (!OperatingSystem.IsLinux()) return; // mallopt and malloc_trim are glibc's
        // What a step frees at the top of the heap stays resident for the next step, until ReleaseFreed at the epoch's end.
        ProcessMemory.ReturnLargeBlocksOnFree();
        ProcessMemory.KeepFreedHeapUntilReleased();
        const int bytes = 16 << 20; // below the mmap threshold: from the heap, as a batch-128 activation is
        var ones = Enumerable.Repeat((byte)1, bytes).ToArray();
        var blocks = new IntPtr[8];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(bytes);
            Marshal.Copy(ones, 0, blocks[i], bytes);
        }
        long touched = ResidentBytes();
        for (int i = blocks.Length - 1; i >= 0; i--) Marshal.FreeHGlobal(blocks[i]);
        long afterFree = ResidentBytes();
        ProcessMemory.ReleaseFreed();
        long afterRelease = ResidentBytes();
        Assert.True(touched - afterFree < 32L << 20, $"free gave back {(touched - afterFree) >> 20} MiB of 128 MiB");
        Assert.True(afterFree - afterRelease > 96L << 20, $"ReleaseFreed gave back {(afterFree - afterRelease) >> 20} MiB of 128 MiB");
    }

    [DllImport("libc", EntryPoint = "unsetenv")]
    static extern int UnsetNativeVariable([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    static long ResidentBytes() => long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;
}
