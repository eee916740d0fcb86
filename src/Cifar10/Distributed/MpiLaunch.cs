using System.Runtime.InteropServices;
using Cifar10.Training;

namespace Cifar10.Distributed;

/// <summary>What config.json records of a distributed run: the world, the MPI library, and each rank's host and threads.</summary>
/// <param name="WorldSize">The number of processes (ranks).</param>
/// <param name="Library">The MPI library, as it names itself.</param>
/// <param name="Ranks">Each rank's machine and threads, in rank order.</param>
public sealed record DistributedInfo(int WorldSize, string Library, IReadOnlyList<RankInfo> Ranks)
{
    /// <summary>One line on the world for the run's log, with a warning where a rank has more threads than cores to run them.</summary>
    public string Describe(int batchSize)
    {
        int machines = Ranks.Select(r => r.Host).Distinct().Count();
        var threads = Ranks.Select(r => r.Threads).Distinct().ToList();
        var text = $"distributed: {WorldSize} MPI processes ({Library}) on {machines} machine{(machines == 1 ? "" : "s")}, " +
                   $"{string.Join("/", threads)} thread{(threads is [1] ? "" : "s")} each; batch {batchSize} is the global batch";
        var crowded = Ranks.FirstOrDefault(r => r.Threads > r.Cores);
        return crowded is null ? text : text +
            $"\nwarning: rank {crowded.Rank} runs {crowded.Threads} threads on the {crowded.Cores} core{(crowded.Cores == 1 ? "" : "s")} it may use " +
            $"(mpirun binds a rank to one core by default: give it --map-by slot:PE={crowded.Threads}, or --bind-to none)";
    }
}

/// <summary>One rank's machine, its libtorch threads, and the cores it may run on (its launcher's binding).</summary>
/// <param name="Rank">The rank, 0 to the world size − 1.</param>
/// <param name="Host">Its machine's name.</param>
/// <param name="Threads">Its libtorch threads.</param>
/// <param name="Cores">The cores it may run on.</param>
public sealed record RankInfo(int Rank, string Host, int Threads, int Cores);

/// <summary>
/// Whether this process is one rank of an MPI launch, and the world it trains in. Launchers tell their processes
/// through the environment: Open MPI's mpirun sets OMPI_COMM_WORLD_RANK, PMIx launchers (srun --mpi=pmix, Open MPI
/// 5's prterun) PMIX_RANK, MPICH's Hydra and srun --mpi=pmi2 PMI_RANK.
/// </summary>
public static class MpiLaunch
{
    static readonly string[] RankVariables = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "MV2_COMM_WORLD_RANK"];
    /// <summary>The variables in which a launcher says how many processes it started, where it says so.</summary>
    static readonly string[] SizeVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"];

    /// <summary>The variable that says an MPI launcher started this process, or null.</summary>
    public static string? LauncherVariable(Func<string, string?> environment) =>
        RankVariables.FirstOrDefault(v => !string.IsNullOrEmpty(environment(v)));

    /// <summary>
    /// The world of a run in <paramref name="mode"/>: this process alone (off; auto without a launcher), or MPI's.
    /// A usage error (exit 2) when MPI is asked for and cannot be had: no launcher, or no library.
    /// </summary>
    internal static DataParallel Start(DistributedMode mode) => Start(mode, Environment.GetEnvironmentVariable);

    internal static DataParallel Start(DistributedMode mode, Func<string, string?> environment)
    {
        if (mode == DistributedMode.Off) return DataParallel.SingleProcess;
        var launcher = LauncherVariable(environment);
        if (launcher is null)
        {
            if (int.TryParse(environment("SLURM_STEP_NUM_TASKS"), out int tasks) && tasks > 1)
                throw new ConfigException($"srun started {tasks} tasks without MPI, so each would train its own copy of the run: use srun --mpi=pmix (see `srun --mpi=list`), or --distributed off");
            if (mode == DistributedMode.Auto) return DataParallel.SingleProcess;
            throw new ConfigException("--distributed mpi: this process was not started by an MPI launcher; run it as `mpirun -n N cifar10 train ...` (or `srun --mpi=pmix` under Slurm)");
        }
        MpiCommunicator world;
        try
        {
            world = MpiCommunicator.Start(mpichFirst: launcher is "PMI_RANK" or "MV2_COMM_WORLD_RANK"); // Hydra, srun --mpi=pmi2, MVAPICH
        }
        catch (DistributedException e)
        {
            throw new ConfigException($"started by an MPI launcher ({launcher} is set) but MPI cannot be used: {e.Message}");
        }
        // Another MPI's library than the launcher's initialises as a world of one process, each rank alone.
        var started = SizeVariables.Select(environment).FirstOrDefault(v => !string.IsNullOrEmpty(v));
        if (int.TryParse(started, out int size) && size != world.Size)
            throw new ConfigException($"the launcher started {size} processes but {world.LibraryFile} ({world.Library}) sees {world.Size}: it is not the MPI of the launcher; run the mpirun of the same MPI");
        return new DataParallel(world);
    }

    /// <summary>
    /// The libtorch threads of every rank: its requested count when given; else the same count
    /// on every rank (a thread count can change how an update rounds, and the ranks' weights must stay identical
    /// to the bit): the smallest fair share, over the ranks, of a machine's cores among the ranks on it, never more
    /// than the cores a rank may run on (a launcher that binds each rank to one core gives it one).
    /// </summary>
    internal static int[] ThreadsOfEachRank(IReadOnlyList<(int Requested, int FairShare)> ranks)
    {
        int common = Math.Max(1, ranks.Min(r => r.FairShare));
        return ranks.Select(r => r.Requested > 0 ? r.Requested : common).ToArray();
    }

    /// <summary>The threads this rank uses (<see cref="ThreadsOfEachRank"/>), and with MPI what config.json records of the world.</summary>
    internal static (int Threads, DistributedInfo? Info) Describe(DataParallel parallel, int requestedThreads)
    {
        if (parallel.World is not MpiCommunicator mpi) return (requestedThreads, null);
        const int Facts = 3; // requested threads, fair share of the machine, cores this rank may run on
        var facts = new long[Facts * mpi.Size];
        int fairShare = Math.Min(Environment.ProcessorCount, OnlineCpus() / Math.Max(1, mpi.RanksOnThisHost));
        new long[] { requestedThreads, fairShare, Environment.ProcessorCount }.CopyTo(facts, Facts * mpi.Rank);
        mpi.Sum(facts);
        var threads = ThreadsOfEachRank(Enumerable.Range(0, mpi.Size).Select(r => ((int)facts[Facts * r], (int)facts[Facts * r + 1])).ToList());
        var ranks = Enumerable.Range(0, mpi.Size).Select(r => new RankInfo(r, mpi.Hosts[r], threads[r], (int)facts[Facts * r + 2])).ToList();
        return (threads[mpi.Rank], new DistributedInfo(mpi.Size, mpi.Library, ranks));
    }

    [DllImport("libc", EntryPoint = "sysconf")]
    static extern long SysConf(int name);

    /// <summary>The machine's online CPUs (Environment.ProcessorCount counts only those this process may use).</summary>
    static int OnlineCpus()
    {
        const int ScNProcessorsOnline = 84; // _SC_NPROCESSORS_ONLN on Linux
        long online = OperatingSystem.IsLinux() ? SysConf(ScNProcessorsOnline) : -1;
        return online > 0 ? (int)online : Environment.ProcessorCount;
    }
}
