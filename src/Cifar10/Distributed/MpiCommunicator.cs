using System.Text;

namespace Cifar10.Distributed;

/// <summary>
/// MPI_COMM_WORLD of this process, started once per process (MPI allows one MPI_Init) and ended when the
/// process exits: a barrier and MPI_Finalize normally, MPI_Abort when this rank failed on its own (<see cref="AbortAtExit"/>),
/// which makes the launcher end every other rank instead of leaving them waiting in a collective for this one.
/// </summary>
internal sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>MPI takes counts as int; larger buffers go in pieces of this many elements.</summary>
    const int MaxCount = 1 << 30;
    const int HostBytes = 256;

    static readonly Lock starting = new();
    static MpiCommunicator? started;

    readonly MpiLibrary mpi;
    int? abortCode;

    MpiCommunicator(MpiLibrary mpi)
    {
        this.mpi = mpi;
        Rank = mpi.Rank();
        Size = mpi.Size();
        Hosts = GatherHosts();
    }

    /// <summary>Initialises MPI (once per process) and returns this process's world.</summary>
    /// <param name="mpichFirst">Look for the MPICH family's library before Open MPI's (the launcher is MPICH's).</param>
    public static MpiCommunicator Start(bool mpichFirst = false)
    {
        lock (starting)
        {
            if (started is not null) return started;
            var mpi = MpiLibrary.Load(mpichFirst);
            mpi.Init();
            started = new MpiCommunicator(mpi);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => started.End();
            return started;
        }
    }

    public int Rank { get; }
    public int Size { get; }
    /// <summary>Each rank's host name, in rank order.</summary>
    public IReadOnlyList<string> Hosts { get; }
    /// <summary>The MPI library, as it names itself ("Open MPI v4.1.4, ...").</summary>
    public string Library => mpi.Version;
    /// <summary>The library file loaded (libmpi.so.40, libmpich.so.12, ...).</summary>
    public string LibraryFile => mpi.File;

    /// <summary>How many ranks run on this rank's machine (they share its cores).</summary>
    public int RanksOnThisHost => Hosts.Count(h => h == Hosts[Rank]);

    /// <summary>This rank failed alone (the others may be waiting for it in a collective): when the process exits,
    /// after the error has been printed, MPI_Abort ends the whole job with <paramref name="code"/>.</summary>
    public void AbortAtExit(int code) => abortCode ??= code;

    public void Sum(Span<float> values)
    {
        fixed (float* p = values) InPieces(p, values.Length, sizeof(float), (at, n) => mpi.AllreduceSum(at, n, mpi.Float));
    }

    public void Sum(Span<double> values)
    {
        fixed (double* p = values) InPieces(p, values.Length, sizeof(double), (at, n) => mpi.AllreduceSum(at, n, mpi.Double));
    }

    public void Sum(Span<long> values)
    {
        fixed (long* p = values) InPieces(p, values.Length, sizeof(long), (at, n) => mpi.AllreduceSum(at, n, mpi.Int64));
    }

    public void Broadcast(Span<byte> data, int root)
    {
        fixed (byte* p = data) InPieces(p, data.Length, 1, (at, n) => mpi.Broadcast(at, n, mpi.Byte, root));
    }

    public byte[] Gather(ReadOnlySpan<byte> mine)
    {
        if (mine.Length > MaxCount / Size) throw new DistributedException($"cannot gather {mine.Length} bytes from each of {Size} ranks at once");
        var all = new byte[mine.Length * Size];
        fixed (byte* send = mine)
        fixed (byte* receive = all)
            mpi.AllgatherBytes(send, receive, mine.Length);
        return all;
    }

    delegate void Piece(void* at, int count);

    static void InPieces(void* start, int count, int elementSize, Piece call)
    {
        // Every rank has the same count, so an empty buffer is skipped everywhere alike.
        for (long done = 0; done < count; done += MaxCount)
            call((byte*)start + done * elementSize, (int)Math.Min(MaxCount, count - done));
    }

    string[] GatherHosts()
    {
        var mine = new byte[HostBytes];
        Encoding.UTF8.GetBytes(Environment.MachineName.AsSpan(0, Math.Min(Environment.MachineName.Length, HostBytes / 4)), mine);
        var all = Gather(mine);
        return Enumerable.Range(0, Size)
            .Select(r => Encoding.UTF8.GetString(all, r * HostBytes, HostBytes).TrimEnd('\0'))
            .ToArray();
    }

    void End()
    {
        if (abortCode is int code)
        {
            mpi.Abort(code);
            return;
        }
        // No rank exits before every rank is done: a launcher that is ending the job (mpirun after Ctrl-C) kills
        // the remaining ranks as soon as one exits, and MPI_Finalize alone does not hold them back then.
        mpi.Barrier();
        mpi.FinalizeMpi();
    }
}
