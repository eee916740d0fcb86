namespace Cifar10;

/// <summary>
/// An invalid setting or a request the toolkit cannot carry out as asked: the user's to fix in the
/// command line or the config (the CLI's exit code 2). Every layer throws it, so it lives here,
/// below them all. The message is one line that names the setting and what would be valid.
/// </summary>
public sealed class ConfigException(string message) : Exception(OneLine.Of(message));

internal static class OneLine
{
    /// <summary>Messages often embed text from the OS, a parser or the network stack, which may hold line breaks.</summary>
    public static string Of(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
