namespace Cifar10.Cli;

/// <summary>Where the tool writes, and whether it may draw live progress bars there
/// (only on a terminal; CI logs and pipes get plain lines).</summary>
public sealed class CliConsole(TextWriter output, TextWriter error, bool interactive)
{
    public TextWriter Out { get; } = output;
    public TextWriter Error { get; } = error;
    public bool Interactive { get; } = interactive;
}
