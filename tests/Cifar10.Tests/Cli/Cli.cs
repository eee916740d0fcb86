using System.Diagnostics;
using System.Runtime.InteropServices;
using Cifar10.Cli;
using Cifar10.Tests.Data;

namespace Cifar10.Tests.Cli;

/// <summary>The command line, in this process (fast) or as a real process (for signals and exit codes).</summary>
static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        return (Program.Run(args, output, error), output.ToString(), error.ToString());
    }

    /// <summary>A small real-data training run of the simple network: seconds, not minutes. In fp32, so that its
    /// figures are the same on every CPU (auto is bf16 where the CPU is fast at it) and its exports match it exactly.</summary>
    public static readonly string[] Tiny =
        ["--model", "simple", "--subset", "512", "--val-size", "128", "--batch-size", "64", "--threads", "1", "--precision", "fp32", "--data", RealData.Folder];

    public static CliProcess Start(params string[] args) => new(args);

    /// <summary>Copies a folder with everything in it (a run folder made once, then damaged per test).</summary>
    public static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var folder in Directory.GetDirectories(from)) CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
    }
}

/// <summary>`dotnet cifar10.dll ARGS` with its output collected, to be signalled like a user's Ctrl-C.</summary>
sealed class CliProcess : IDisposable
{
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    public const int SigInt = 2, SigKill = 9, SigTerm = 15;

    /// <summary>The tool as `dotnet` runs it.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "cifar10.dll");

    readonly Process process;
    readonly System.Text.StringBuilder output = new(), error = new();

    public CliProcess(string[] args) : this(new ProcessStartInfo("dotnet", [Dll, .. args])) { }

    /// <summary>Any command (e.g. mpirun starting the tool), its output collected like the tool's own.</summary>
    public CliProcess(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Out { get { lock (output) return output.ToString(); } }
    public string Err { get { lock (error) return error.ToString(); } }
    public bool HasExited => process.HasExited;

    /// <summary>Waits until <paramref name="condition"/> holds; false if the process ended first or time ran out.</summary>
    public bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            if (process.HasExited) return condition();
            Thread.Sleep(50);
        }
        return false;
    }

    public void Signal(int signal) => Signal(process.Id, signal);

    public static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0) throw new InvalidOperationException($"kill failed: {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>The exit code, or null if the process is still running after <paramref name="timeout"/>.</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout)) return null;
        process.WaitForExit(); // drains the output handlers
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
