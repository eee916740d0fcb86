namespace Cifar10.Data;

/// <summary>
/// Bad or missing CIFAR-10 data: a missing file, a wrong size, a corrupt archive.
/// The message is always one line that names the file and what is wrong, because the CLI
/// prints it as is (and exits with code 1) instead of a stack trace.
/// </summary>
public class DataException : Exception
{
    /// <summary>A data problem described by <paramref name="message"/> (line breaks are joined into one line).</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="inner">The exception that revealed it, if any.</param>
    public DataException(string message, Exception? inner = null)
        : base(Cifar10.OneLine.Of(message), inner) { }
}

/// <summary>
/// The data could not be downloaded (network unreachable, HTTP error, checksum mismatch).
/// Derives from <see cref="DataException"/> so callers can treat every data problem alike.
/// </summary>
public class DownloadException : DataException
{
    /// <summary>A failed download described by <paramref name="message"/>.</summary>
    /// <param name="message">What failed, naming the address.</param>
    /// <param name="inner">The exception that revealed it, if any.</param>
    public DownloadException(string message, Exception? inner = null) : base(message, inner) { }
}
