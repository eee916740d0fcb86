namespace Cifar10.Data;

/// <summary>
/// Bad or missing CIFAR-10 data: a missing file, a wrong size, a corrupt archive.
/// The message is always one line that names the file and what is wrong, because the CLI
/// prints it as is (and exits with code 1) instead of a stack trace.
/// </summary>
public class DataException : Exception
{
    public DataException(string message, Exception? inner = null)
        : base(Cifar10.OneLine.Of(message), inner) { }
}

/// <summary>
/// The data could not be downloaded (network unreachable, HTTP error, checksum mismatch).
/// Derives from <see cref="DataException"/> so callers can treat every data problem alike.
/// </summary>
public class DownloadException : DataException
{
    public DownloadException(string message, Exception? inner = null) : base(message, inner) { }
}
