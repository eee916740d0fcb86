namespace Cifar10.Cli;

/// <summary>Where the tool writes, whether it may draw live progress bars there (only on a terminal;
/// CI logs and pipes get plain lines), and the token a stop signal cancels.</summary>
public sealed class CliConsole(TextWriter output, TextWriter error, bool interactive, CancellationToken interrupt)
{
    public TextWriter Out { get; } = output;
    public TextWriter Error { get; } = error;
    public bool Interactive { get; } = interactive;
    /// <summary>Cancelled by the first Ctrl-C (SIGINT) or SIGTERM.</summary>
    public CancellationToken Interrupt { get; } = interrupt;
}
