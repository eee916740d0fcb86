using System.Runtime.InteropServices;
using System.Text;

namespace Cifar10.Distributed;

/// <summary>
/// The system's MPI library, reached through function pointers: the few calls data-parallel training needs
/// (init, rank, size, allreduce, broadcast, allgather, barrier, abort, finalize). MPI's handles differ between
/// the two families of libraries: in Open MPI (libmpi.so.40) MPI_COMM_WORLD, MPI_FLOAT and MPI_SUM are the
/// addresses of global objects in the library, in MPICH and its derivatives (libmpi.so.12: MPICH, Intel MPI,
/// MVAPICH) they are fixed integers of one ABI. Both are passed as a pointer-sized argument: where the callee
/// takes a 32-bit int, the x86-64 and AArch64 calling conventions read its low half.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>The sonames of Open MPI 3–5 and of the MPICH ABI (Debian's MPICH ships only libmpich.so.12).</summary>
    static readonly string[] OpenMpi = ["libmpi.so.40"], Mpich = ["libmpi.so.12", "libmpich.so.12"];

    const int RtldNow = 0x2, RtldGlobal = 0x100;
    const int ThreadSerialized = 2; // the same value in both families
    const int Success = 0;

    [DllImport("libc", EntryPoint = "dlopen")]
    static extern nint DlOpen(string file, int flags);

    readonly nint library;
    readonly delegate* unmanaged<int*, nint*, int, int*, int> initThread;
    readonly delegate* unmanaged<int*, int> initialized;
    readonly delegate* unmanaged<int*, int> finalized;
    readonly delegate* unmanaged<int> finalize;
    readonly delegate* unmanaged<nint, int, int> abort;
    readonly delegate* unmanaged<nint, int*, int> commRank;
    readonly delegate* unmanaged<nint, int*, int> commSize;
    readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> allreduce;
    readonly delegate* unmanaged<nint, int, nint, int, nint, int> bcast;
    readonly delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> allgather;
    readonly delegate* unmanaged<nint, int> barrier;

    /// <summary>MPI_IN_PLACE: 1 in Open MPI, -1 in MPICH.</summary>
    readonly nint inPlace;
    public nint World { get; }
    public nint Float { get; }
    public nint Double { get; }
    public nint Int64 { get; }
    public nint Byte { get; }
    public nint Sum { get; }

    /// <summary>The file that was loaded and what the library says it is (the name and version from MPI_Get_library_version).</summary>
    public string File { get; }
    public string Version { get; }

    MpiLibrary(nint library, string file)
    {
        this.library = library;
        File = file;
        Version = ReadVersion();
        initThread = (delegate* unmanaged<int*, nint*, int, int*, int>)Export("MPI_Init_thread");
        initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        commRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        commSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Export("MPI_Bcast");
        allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Export("MPI_Allgather");
        barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");

        if (NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out var world))
        {
            inPlace = 1;
            World = world;
            Float = Export("ompi_mpi_float");
            Double = Export("ompi_mpi_double");
            Int64 = Export("ompi_mpi_long_long_int");
            Byte = Export("ompi_mpi_byte");
            Sum = Export("ompi_mpi_op_sum");
        }
        else if (IsMpichAbi(Version))
        {
            inPlace = -1;
            World = 0x44000000;
            Float = 0x4c00040a;
            Double = 0x4c00080b;
            Int64 = 0x4c000809; // MPI_LONG_LONG_INT
            Byte = 0x4c00010d;
            Sum = 0x58000003;
        }
        else
        {
            throw new DistributedException($"the MPI library {file} ({Version}) is neither Open MPI nor of the MPICH family; data-parallel training supports those two");
        }
    }

    /// <summary>The MPICH family shares one binary interface (the MPICH ABI initiative): MPICH, Intel MPI, MVAPICH, Cray MPICH.</summary>
    internal static bool IsMpichAbi(string version) =>
        version.StartsWith("MPICH", StringComparison.OrdinalIgnoreCase)
        || version.Contains("Intel(R) MPI", StringComparison.OrdinalIgnoreCase)
        || version.StartsWith("MVAPICH", StringComparison.OrdinalIgnoreCase)
        || version.Contains("CRAY MPICH", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Loads the first MPI library found (LD_LIBRARY_PATH and the system's paths, so an `module load openmpi` works).
    /// RTLD_GLOBAL because Open MPI's components, loaded by the library itself, resolve their symbols against it.
    /// </summary>
    /// <summary>The library of the family the launcher belongs to, tried first (a machine may have both installed);
    /// then the other family's, then whatever libmpi.so is.</summary>
    public static MpiLibrary Load(bool mpichFirst) => Load(mpichFirst ? [.. Mpich, .. OpenMpi, "libmpi.so"] : [.. OpenMpi, .. Mpich, "libmpi.so"]);

    internal static MpiLibrary Load(IReadOnlyList<string> candidates)
    {
        foreach (var name in candidates)
        {
            var handle = DlOpen(name, RtldNow | RtldGlobal);
            if (handle != 0) return new MpiLibrary(handle, name);
        }
        throw new DistributedException(
            $"no MPI library found ({string.Join(", ", candidates.Take(2))}): install Open MPI (Debian: openmpi-bin libopenmpi-dev) or MPICH");
    }

    nint Export(string name) =>
        NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw new DistributedException($"the MPI library {File} has no {name}: it is not an MPI library this tool can use");

    string ReadVersion()
    {
        if (!NativeLibrary.TryGetExport(library, "MPI_Get_library_version", out var address)) return "unknown MPI";
        var get = (delegate* unmanaged<byte*, int*, int>)address;
        var buffer = new byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING: 256 in Open MPI, 8192 in MPICH
        int length = 0;
        fixed (byte* written = buffer)
            if (get(written, &length) != Success) return "unknown MPI";
        // "Open MPI v4.1.4, package: Debian OpenMPI, ..." or "MPICH Version:\t4.0.2\nMPICH Release date: ...": the name and version.
        var first = Encoding.UTF8.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).Split('\n')[0].Split(',')[0];
        return string.Join(' ', first.Split([' ', '\t', '\0'], StringSplitOptions.RemoveEmptyEntries));
    }

    public bool IsInitialized
    {
        get
        {
            int flag = 0, done = 0;
            Check(initialized(&flag), "MPI_Initialized");
            Check(finalized(&done), "MPI_Finalized");
            return flag != 0 && done == 0;
        }
    }

    public void Init()
    {
        int provided = 0;
        Check(initThread(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
    }

    public int Rank()
    {
        int rank = 0;
        Check(commRank(World, &rank), "MPI_Comm_rank");
        return rank;
    }

    public int Size()
    {
        int size = 0;
        Check(commSize(World, &size), "MPI_Comm_size");
        return size;
    }

    public void AllreduceSum(void* values, int count, nint type) =>
        Check(allreduce(inPlace, (nint)values, count, type, Sum, World), "MPI_Allreduce");

    public void Broadcast(void* values, int count, nint type, int root) =>
        Check(bcast((nint)values, count, type, root, World), "MPI_Bcast");

    public void AllgatherBytes(void* mine, void* all, int countPerRank) =>
        Check(allgather((nint)mine, countPerRank, Byte, (nint)all, countPerRank, Byte, World), "MPI_Allgather");

    public void Barrier() => Check(barrier(World), "MPI_Barrier");

    public void Abort(int code) => abort(World, code);

    public void FinalizeMpi() => Check(finalize(), "MPI_Finalize");

    static void Check(int result, string call)
    {
        // MPI's default error handler ends the job before most errors get here; what does is still an error.
        if (result != Success) throw new DistributedException($"{call} failed with MPI error code {result}");
    }
}
