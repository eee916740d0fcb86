namespace Cifar10.Data;

/// <summary>Where CIFAR-10 comes from and where it is cached; see <see cref="DataLocator"/>.</summary>
public sealed record DownloadOptions
{
    public const string OfficialUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
    public const string OfficialMd5 = "c32a1d4ab5d03f1284b67883e8d87530";

    /// <summary>http(s):// or file:// address of the archive.</summary>
    public string Url { get; init; } = OfficialUrl;

    /// <summary>MD5 the downloaded archive must have; null skips the check.</summary>
    public string? ExpectedMd5 { get; init; } = OfficialMd5;

    /// <summary>Holds the downloaded archive and everything extracted from archives.</summary>
    public string CacheDir { get; init; } = DefaultCacheDir;

    /// <summary>False turns "nothing found" into an error instead of a download.</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>Gives up on a download when no data arrived for this long.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public IProgress<DownloadProgress>? Progress { get; init; }

    /// <summary>One-line notes for the user ("extracting …"); null stays silent.</summary>
    public Action<string>? Log { get; init; }

    // Tests use small synthetic batches; real data always has 10,000 records per file.
    internal int RecordsPerFile { get; init; } = Cifar10Reader.RecordsPerFile;

    public static string DefaultCacheDir =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "cifar10");
}

/// <summary>Download progress: bytes received so far, and the total when the server said it.</summary>
public readonly record struct DownloadProgress(long BytesDone, long? TotalBytes)
{
    public double? Fraction => TotalBytes is > 0 ? (double)BytesDone / TotalBytes.Value : null;
}
