using System.CommandLine;
using System.Globalization;
using Cifar10.Cli.Commands;
using Cifar10.Data;
using Cifar10.Distributed;
using Cifar10.Prediction;
using Cifar10.Runs;
using Cifar10.Training;

namespace Cifar10.Cli;

/// <summary>
/// The command-line tool. It only parses options, calls the library and prints; every
/// error becomes one line on stderr with exit code 2 (usage) or 1 (failure), 130 when interrupted.
/// </summary>
public static class Program
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;
    public const int Interrupted = 130;

    public static int Main(string[] args)
    {
        // What the tool prints reads the same on every machine ("90.72%", never "90,72 %"); what it
        // parses and writes is culture-invariant in the library already.
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.PercentPositivePattern = 1; // "90.72%", as the README writes it, not "90.72 %"
        culture.NumberFormat.PercentNegativePattern = 1;
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = culture;
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture;
        Cifar10.Runtime.ProcessMemory.ConfigureForTraining(); // before any tensor: the peak and the page faults of a step (docs/benchmarks.md)
        return Run(args, Console.Out, Console.Error);
    }

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        using var signals = new StopSignals();
        // Under an MPI launcher the output reaches the user through the launcher (often into a job's log), on a
        // terminal it does not size: plain lines, no live display.
        bool interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
                           && MpiLaunch.LauncherVariable(Environment.GetEnvironmentVariable) is null;
        var console = new CliConsole(output, error, interactive, signals.Token);
        var root = BuildRoot(console);
        var parsed = root.Parse(args);
        bool verbose = parsed.GetValue(CommonOptions.Verbose);
        if (parsed.Errors.Count > 0)
        {
            // "Unrecognized command or argument 'x'" says more than the "command was not provided" that precedes it.
            var shown = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized")) ?? parsed.Errors[0];
            error.WriteLine($"error: {shown.Message.TrimEnd('.')}{Suggestions.ForUnrecognized(shown.Message, parsed.CommandResult.Command)} (see --help)");
            return UsageError;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
        }
        catch (ReportedByRankZeroException e)
        {
            return Classify(e.InnerException!).Code; // the same failure as rank 0's, which prints it
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            error.WriteLine($"error: {message}");
            if (verbose && code != Interrupted) error.WriteLine(e.ToString());
            return code;
        }
    }

    /// <summary>Every command of the tool (docs/cli.md is generated from it).</summary>
    public static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("CIFAR-10 image classification on TorchSharp: download, train, evaluate, predict.");
        root.Options.Add(CommonOptions.Verbose);
        root.Subcommands.Add(DownloadCommand.Build(console));
        root.Subcommands.Add(ModelsCommand.Build(console));
        root.Subcommands.Add(SummaryCommand.Build(console));
        root.Subcommands.Add(TrainCommand.Build(console));
        root.Subcommands.Add(EvalCommand.Build(console));
        root.Subcommands.Add(PredictCommand.Build(console));
        root.Subcommands.Add(ReportCommand.Build(console));
        root.Subcommands.Add(SweepCommand.Build(console));
        root.Subcommands.Add(LearningRateFinderCommand.Build(console));
        root.Subcommands.Add(ExportCommand.Build(console));
        root.Subcommands.Add(ServeCommand.Build(console));
        return root;
    }

    /// <summary>Usage errors are the user's to fix in the command line; failures are about the world.</summary>
    static (int Code, string Message) Classify(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e;
        var firstLine = inner.Message.Split('\n')[0].Trim();
        return inner switch
        {
            RunInterruptedException => (Interrupted, firstLine),
            OperationCanceledException => (Interrupted, "interrupted"),
            ConfigException => (UsageError, firstLine),
            ArgumentException argument => (UsageError, WithoutParameterName(argument)),
            DataException or CheckpointException or ImageException or TrainingDivergedException or DistributedException or IOException
                or UnauthorizedAccessException => (Failure, firstLine),
            _ => (Failure, $"{firstLine} ({inner.GetType().Name}; --verbose shows the stack trace)"),
        };
    }

    /// <summary>.NET appends " (Parameter 'x')" and "Actual value was y." to argument errors: noise for a user.</summary>
    static string WithoutParameterName(ArgumentException e)
    {
        var message = e.Message.Split('\n')[0].Trim();
        if (e.ParamName is { } name) message = message.Replace($" (Parameter '{name}')", "");
        if (e is ArgumentOutOfRangeException { ActualValue: { } actual })
            message = message.Replace($"Actual value was {actual}.", "").Trim();
        return message;
    }
}
