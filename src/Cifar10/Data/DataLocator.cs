using System.Security.Cryptography;
using System.Text.Json;

namespace Cifar10.Data;

/// <summary>A validated folder of a binary data set and the SHA-256 of its files.</summary>
internal sealed record LocatedData(string Folder, DataFingerprint Fingerprint);

/// <summary>
/// Finds a data set in the CIFAR binary format (<see cref="BinaryLayout"/>: CIFAR-10, CIFAR-100) and
/// returns a fully validated folder of its files (cifar-10-batches-bin, cifar-100-binary).
/// </summary>
/// <remarks>
/// Where it looks, in order:
/// <list type="number">
/// <item>the --data option, else the layout's environment variable (CIFAR10_DATA, CIFAR100_DATA).
/// Either may name the .tar.gz archive, a folder holding it (cifar-10-binary.tar.gz), the extracted
/// folder itself (cifar-10-batches-bin), or a folder containing it (an extracted folder wins over an
/// archive beside it);</item>
/// <item>otherwise the cache folder (~/.cache/cifar10 or <see cref="DownloadOptions.CacheDir"/>):
/// its extracted folder, else its archive, else a fresh download of it.</item>
/// </list>
/// Archives are never extracted beside themselves (their folder may be read-only or shared):
/// an archive given explicitly is extracted to &lt;cache&gt;/extracted/&lt;first 16 hex digits of
/// its SHA-256&gt;/cifar-10-batches-bin, so different archives never mix and one archive is
/// extracted once; the cache's own archive is extracted to &lt;cache&gt;/cifar-10-batches-bin.
/// Every folder is validated completely (sizes, label bytes, class names) each time; an extraction
/// in the cache is also compared with the checksums recorded when it was made, and made again from
/// its archive when it was damaged since. A download is kept under the archive's name only after
/// it has been extracted and validated, so a file that is no CIFAR-10 archive is never cached.
/// </remarks>
internal static class DataLocator
{
    /// <summary>The checksums of an extraction, written beside its files when it is made.</summary>
    public const string ChecksumFile = ".cifar10-sha256.json";

    public static LocatedData Resolve(string? dataOption, BinaryLayout layout, DownloadOptions options, CancellationToken cancellation = default)
    {
        if (!string.IsNullOrWhiteSpace(dataOption))
            return ResolveGivenPath(dataOption, "--data", layout, options, cancellation);
        var fromEnvironment = Environment.GetEnvironmentVariable(layout.EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return ResolveGivenPath(fromEnvironment, layout.EnvironmentVariable, layout, options, cancellation);
        return ResolveFromCache(layout, options, cancellation);
    }

    static LocatedData ResolveGivenPath(string given, string source, BinaryLayout layout, DownloadOptions options, CancellationToken cancellation)
    {
        var path = Path.GetFullPath(ExpandHome(given));
        if (File.Exists(path))
            return ExtractToCache(path, layout, options, cancellation);
        if (!Directory.Exists(path))
            throw new DataException($"{source} path {path} does not exist");

        if (CifarBinary.LooksLike(path, layout))
            return Validated(path, layout, cancellation);
        var batchFolder = Path.Combine(path, layout.FolderName);
        if (Directory.Exists(batchFolder))
            return Validated(batchFolder, layout, cancellation);
        var archive = Path.Combine(path, layout.ArchiveFileName);
        if (File.Exists(archive))
            return ExtractToCache(archive, layout, options, cancellation);
        throw new DataException($"{source} folder {path} holds no {layout.Name} data: expected {layout.ArchiveFileName}, a {layout.FolderName} folder, or the batch files themselves");
    }

    static LocatedData ResolveFromCache(BinaryLayout layout, DownloadOptions options, CancellationToken cancellation)
    {
        var batchFolder = Path.Combine(options.CacheDir, layout.FolderName);
        var archive = Path.Combine(options.CacheDir, layout.ArchiveFileName);
        if (File.Exists(archive))
            return ExtractOnce(archive, batchFolder, layout, options, cancellation);
        if (Directory.Exists(batchFolder))
            return Validated(batchFolder, layout, cancellation); // the user may have deleted the archive to save space
        if (!options.AllowDownload)
            throw new DataException($"no {layout.Name} data found in the cache {options.CacheDir} and downloading is off. {Downloader.UseLocalDataHint}");

        using var created = CreatedFolders.For(options.CacheDir);
        // Downloaded under a name nothing trusts, extracted and validated, and only then kept as the archive.
        var unverified = archive + ".unverified";
        File.Delete(unverified);
        var (url, md5) = options.SourceFor(layout);
        options.Log?.Invoke($"Downloading {layout.Name} from {url} to {archive}");
        try
        {
            Downloader.DownloadTo(url, unverified, md5, options.Progress, options.StallTimeout, cancellation);
            LocatedData located;
            try
            {
                located = Extract(unverified, batchFolder, layout, options, cancellation);
            }
            catch (DataException e)
            {
                throw new DownloadException($"the download from {url} is not a usable {layout.Name} archive, so it was not kept: {e.Message}", e);
            }
            File.Move(unverified, archive, overwrite: false);
            created.Keep();
            return located;
        }
        finally
        {
            File.Delete(unverified);
        }
    }

    static LocatedData ExtractToCache(string archive, BinaryLayout layout, DownloadOptions options, CancellationToken cancellation)
    {
        var key = Sha256Hex(archive)[..16];
        var batchFolder = Path.Combine(options.CacheDir, "extracted", key, layout.FolderName);
        return ExtractOnce(archive, batchFolder, layout, options, cancellation);
    }

    /// <summary>Uses an earlier extraction when it is still whole, else extracts (again).</summary>
    static LocatedData ExtractOnce(string archive, string batchFolder, BinaryLayout layout, DownloadOptions options, CancellationToken cancellation)
    {
        if (Directory.Exists(batchFolder))
        {
            try
            {
                var located = Validated(batchFolder, layout, cancellation);
                var recorded = ReadChecksums(batchFolder);
                if (recorded is null || recorded == located.Fingerprint.CombinedSha256)
                    return located;
                throw new DataException($"its files differ from the checksums recorded when it was extracted ({ChecksumFile})");
            }
            catch (DataException e)
            {
                // Only complete, validated extractions are renamed into place, so this one was
                // damaged afterwards; the archive is the source of truth.
                options.Log?.Invoke($"Re-extracting {archive}: {e.Message}");
                Directory.Delete(batchFolder, recursive: true);
            }
        }
        return Extract(archive, batchFolder, layout, options, cancellation);
    }

    static LocatedData Extract(string archive, string batchFolder, BinaryLayout layout, DownloadOptions options, CancellationToken cancellation)
    {
        using var created = CreatedFolders.For(Path.GetDirectoryName(Path.GetFullPath(batchFolder))!);
        options.Log?.Invoke($"Extracting {archive} to {batchFolder}");
        var fingerprint = ArchiveExtractor.Extract(archive, batchFolder, layout, cancellation);
        created.Keep();
        return new LocatedData(batchFolder, fingerprint);
    }

    static LocatedData Validated(string folder, BinaryLayout layout, CancellationToken cancellation) =>
        new(folder, CifarBinary.Validate(folder, layout, cancellation));

    /// <summary>Records the checksums of a fresh extraction (called before it is renamed into place).</summary>
    internal static void WriteChecksums(string folder, DataFingerprint fingerprint) =>
        AtomicFile.WriteJson(Path.Combine(folder, ChecksumFile), fingerprint);

    static string? ReadChecksums(string folder)
    {
        var path = Path.Combine(folder, ChecksumFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<DataFingerprint>(File.ReadAllText(path), JsonFiles.Options)?.CombinedSha256 ?? "";
        }
        catch (JsonException)
        {
            return ""; // unreadable: treated as a mismatch, so the folder is extracted again
        }
    }

    static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..]
            : path;

    static string Sha256Hex(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
