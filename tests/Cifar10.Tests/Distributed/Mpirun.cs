using System.Diagnostics;
using System.Text.RegularExpressions;
using Cifar10.Tests.Cli;

namespace Cifar10.Tests.Distributed;

/// <summary>
/// The tool on several ranks as a user starts it: Open MPI's mpirun (openmpi-bin, installed by .ci/run) running
/// `dotnet cifar10.dll` once per rank, 1 thread each, on this one machine. Every rank runs inside a shell that
/// reports its exit code on stderr ("rank 1 exited 130"); the shell traps SIGTERM and SIGINT only to outlive the
/// rank it waits for (a program the shell starts has the signals' default handling, not the trap).
/// </summary>
static class Mpirun
{
    const string ReportExit = """trap : TERM INT; dotnet "$@"; code=$?; echo "rank $OMPI_COMM_WORLD_RANK exited $code" >&2; exit $code""";

    /// <summary>`mpirun -n RANKS dotnet cifar10.dll ARGS`, with <paramref name="mpiOptions"/> before the program.</summary>
    public static CliProcess Start(int ranks, string[] args, params string[] mpiOptions) =>
        new(StartInfo([.. mpiOptions, .. Program(ranks, args)]));

    /// <summary>One mpirun, each rank with its own arguments (MPI's MPMD form `-n 1 A : -n 1 B`).</summary>
    public static CliProcess StartEach(params string[][] argsOfEachRank) =>
        new(StartInfo(argsOfEachRank.SelectMany((args, i) => i == 0 ? Program(1, args) : [":", .. Program(1, args)]).ToArray()));

    static string[] Program(int ranks, string[] args) => ["-n", ranks.ToString(), "sh", "-c", ReportExit, "sh", CliProcess.Dll, .. args];

    static ProcessStartInfo StartInfo(string[] arguments)
    {
        var start = new ProcessStartInfo(Executable, ["--oversubscribe", .. arguments]);
        // The project's machines and CI run as root, which Open MPI refuses without being told.
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        return start;
    }

    static string Executable =>
        Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mpirun was not found: the MPI tests need Open MPI (Debian: openmpi-bin libopenmpi-dev; .ci/run installs them)");

    /// <summary>The lines of a rank's output without the terminal codes .NET writes to the pseudo-terminal mpirun gives it.</summary>
    public static string[] Lines(string output) => Regex.Replace(output, @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "").Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    /// <summary>Each rank's exit code, as its shell reported it.</summary>
    public static Dictionary<int, int> ExitCodes(string stderr) =>
        Regex.Matches(stderr, @"rank (\d+) exited (\d+)").ToDictionary(m => int.Parse(m.Groups[1].Value), m => int.Parse(m.Groups[2].Value));

    /// <summary>The process id of rank <paramref name="rank"/>'s tool whose command line holds <paramref name="marker"/> (its run folder).</summary>
    public static int? RankProcess(int rank, string marker)
    {
        foreach (var folder in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out int pid)) continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0');
                if (!commandLine[0].EndsWith("dotnet") || !commandLine.Contains(marker)) continue;
                if (File.ReadAllText(Path.Combine(folder, "environ")).Split('\0').Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            catch (IOException) { } // the process ended meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }
}
