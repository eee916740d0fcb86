using System.Security.Cryptography;
using System.Text.Json;

namespace Cifar10.Data;

/// <summary>A validated cifar-10-batches-bin folder and the SHA-256 of its files.</summary>
public sealed record LocatedData(string Folder, DataFingerprint Fingerprint);

/// <summary>
/// Finds the CIFAR-10 data and returns a fully validated cifar-10-batches-bin folder.
/// </summary>
/// <remarks>
/// Where it looks, in order:
/// <list type="number">
/// <item>the --data option, else the CIFAR10_DATA environment variable. Either may name the
/// .tar.gz archive, a folder holding cifar-10-binary.tar.gz, the cifar-10-batches-bin folder
/// itself, or a folder containing it (an extracted folder wins over an archive beside it);</item>
/// <item>otherwise the cache folder (~/.cache/cifar10 or <see cref="DownloadOptions.CacheDir"/>):
/// its cifar-10-batches-bin, else its cifar-10-binary.tar.gz, else a fresh download of it.</item>
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
public static class DataLocator
{
    public const string EnvironmentVariable = "CIFAR10_DATA";
    /// <summary>The checksums of an extraction, written beside its files when it is made.</summary>
    public const string ChecksumFile = ".cifar10-sha256.json";

    public static LocatedData Resolve(string? dataOption, DownloadOptions options, CancellationToken cancellation = default)
    {
        if (!string.IsNullOrWhiteSpace(dataOption))
            return ResolveGivenPath(dataOption, "--data", options, cancellation);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return ResolveGivenPath(fromEnvironment, EnvironmentVariable, options, cancellation);
        return ResolveFromCache(options, cancellation);
    }

    static LocatedData ResolveGivenPath(string given, string source, DownloadOptions options, CancellationToken cancellation)
    {
        var path = Path.GetFullPath(ExpandHome(given));
        if (File.Exists(path))
            return ExtractToCache(path, options, cancellation);
        if (!Directory.Exists(path))
            throw new DataException($"{source} path {path} does not exist");

        if (LooksLikeBatchFolder(path))
            return Validated(path, options, cancellation);
        var batchFolder = Path.Combine(path, Cifar10Reader.FolderName);
        if (Directory.Exists(batchFolder))
            return Validated(batchFolder, options, cancellation);
        var archive = Path.Combine(path, Downloader.ArchiveFileName);
        if (File.Exists(archive))
            return ExtractToCache(archive, options, cancellation);
        throw new DataException($"{source} folder {path} holds no CIFAR-10 data: expected {Downloader.ArchiveFileName}, a {Cifar10Reader.FolderName} folder, or the batch files themselves");
    }

    static LocatedData ResolveFromCache(DownloadOptions options, CancellationToken cancellation)
    {
        var batchFolder = Path.Combine(options.CacheDir, Cifar10Reader.FolderName);
        var archive = Path.Combine(options.CacheDir, Downloader.ArchiveFileName);
        if (File.Exists(archive))
            return ExtractOnce(archive, batchFolder, options, cancellation);
        if (Directory.Exists(batchFolder))
            return Validated(batchFolder, options, cancellation); // the user may have deleted the archive to save space
        if (!options.AllowDownload)
            throw new DataException($"no CIFAR-10 data found in the cache {options.CacheDir} and downloading is off. {Downloader.UseLocalDataHint}");

        using var created = CreatedFolders.For(options.CacheDir);
        // Downloaded under a name nothing trusts, extracted and validated, and only then kept as the archive.
        var unverified = archive + ".unverified";
        File.Delete(unverified);
        options.Log?.Invoke($"Downloading CIFAR-10 from {options.Url} to {archive}");
        try
        {
            Downloader.DownloadTo(options.Url, unverified, options.ExpectedMd5, options.Progress, options.StallTimeout, cancellation);
            LocatedData located;
            try
            {
                located = Extract(unverified, batchFolder, options, cancellation);
            }
            catch (DataException e)
            {
                throw new DownloadException($"the download from {options.Url} is not a usable CIFAR-10 archive, so it was not kept: {e.Message}", e);
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

    static LocatedData ExtractToCache(string archive, DownloadOptions options, CancellationToken cancellation)
    {
        var key = Sha256Hex(archive)[..16];
        var batchFolder = Path.Combine(options.CacheDir, "extracted", key, Cifar10Reader.FolderName);
        return ExtractOnce(archive, batchFolder, options, cancellation);
    }

    /// <summary>Uses an earlier extraction when it is still whole, else extracts (again).</summary>
    static LocatedData ExtractOnce(string archive, string batchFolder, DownloadOptions options, CancellationToken cancellation)
    {
        if (Directory.Exists(batchFolder))
        {
            try
            {
                var located = Validated(batchFolder, options, cancellation);
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
        return Extract(archive, batchFolder, options, cancellation);
    }

    static LocatedData Extract(string archive, string batchFolder, DownloadOptions options, CancellationToken cancellation)
    {
        using var created = CreatedFolders.For(Path.GetDirectoryName(Path.GetFullPath(batchFolder))!);
        options.Log?.Invoke($"Extracting {archive} to {batchFolder}");
        var fingerprint = ArchiveExtractor.Extract(archive, batchFolder, options.RecordsPerFile, cancellation);
        created.Keep();
        return new LocatedData(batchFolder, fingerprint);
    }

    static LocatedData Validated(string folder, DownloadOptions options, CancellationToken cancellation) =>
        new(folder, Cifar10Reader.Validate(folder, options.RecordsPerFile, cancellation));

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

    static bool LooksLikeBatchFolder(string folder) =>
        Path.GetFileName(folder) == Cifar10Reader.FolderName
        || Cifar10Reader.AllFileNames.Any(name => File.Exists(Path.Combine(folder, name)));

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
