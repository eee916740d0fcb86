namespace Cifar10.Data;

/// <summary>Where a data set's archive comes from and where it is cached: --data (or CIFAR10_DATA, CIFAR100_DATA) is
/// looked at first, then the cache, then the download (docs/cli.md, <c>download</c>).</summary>
public sealed record DownloadOptions
{
    /// <summary>http(s):// or file:// address of the archive; null for the data set's official one (www.cs.toronto.edu/~kriz).</summary>
    public string? Url { get; init; }

    /// <summary>MD5 a download from <see cref="Url"/> must have; null skips the check. The official archive is always checked against its official MD5.</summary>
    public string? ExpectedMd5 { get; init; }

    /// <summary>Holds the downloaded archive and everything extracted from archives.</summary>
    public string CacheDir { get; init; } = DefaultCacheDir;

    /// <summary>False turns "nothing found" into an error instead of a download.</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>Gives up on a download when no data arrived for this long.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Download progress, reported as the bytes arrive; null stays silent.</summary>
    public IProgress<DownloadProgress>? Progress { get; init; }

    /// <summary>Decoding progress of an image folder (on every core; the cache makes later runs skip it).</summary>
    public IProgress<DecodeProgress>? DecodeProgress { get; init; }

    /// <summary>One-line notes for the user ("extracting …"); null stays silent.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The address and MD5 a download of <paramref name="layout"/> uses.</summary>
    internal (string Url, string? Md5) SourceFor(BinaryLayout layout) =>
        Url is null ? (layout.OfficialUrl, layout.OfficialMd5) : (Url, ExpectedMd5);

    /// <summary>The cache folder when none is given: <c>~/.cache/cifar10</c>.</summary>
    public static string DefaultCacheDir =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "cifar10");
}

/// <summary>Download progress: bytes received so far, and the total when the server said it.</summary>
/// <param name="BytesDone">The bytes received so far.</param>
/// <param name="TotalBytes">The size the server announced, or null.</param>
public readonly record struct DownloadProgress(long BytesDone, long? TotalBytes)
{
    /// <summary>The share downloaded, 0 to 1, or null when the server did not say the size.</summary>
    public double? Fraction => TotalBytes is > 0 ? (double)BytesDone / TotalBytes.Value : null;
}
