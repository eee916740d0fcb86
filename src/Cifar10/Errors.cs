namespace Cifar10;

/// <summary>
/// An invalid setting or a request the toolkit cannot carry out as asked: the user's to fix in the
/// command line or the config (the CLI's exit code 2). Every layer throws it, so it lives here,
/// below them all. The message is one line that names the setting and what would be valid.
/// </summary>
public sealed class ConfigException(string message) : Exception(OneLine.Of(message));

internal static class OneLine
{
    /// <summary>Messages often embed text from the OS, a parser or the network stack, which may hold line breaks;
    /// libtorch's errors (TorchSharp's ExternalException) carry its C++ stack after the message, which is dropped.</summary>
    public static string Of(string text)
    {
        int frames = text.IndexOf(LibTorchFrames, StringComparison.Ordinal);
        if (frames >= 0) text = text[..frames];
        return string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>How libtorch's C++ stack begins: "Exception raised from FUNCTION at FILE:LINE (most recent call first):".</summary>
    const string LibTorchFrames = "Exception raised from ";
}
