using System.Security.Cryptography;

namespace Cifar10.Data;

/// <summary>
/// Finds the CIFAR-10 data and returns the path of a validated cifar-10-batches-bin folder.
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
/// </remarks>
public static class DataLocator
{
    public const string EnvironmentVariable = "CIFAR10_DATA";

    public static string Resolve(string? dataOption, DownloadOptions options)
    {
        if (!string.IsNullOrWhiteSpace(dataOption))
            return ResolveGivenPath(dataOption, "--data", options);
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return ResolveGivenPath(fromEnvironment, EnvironmentVariable, options);
        return ResolveFromCache(options);
    }

    static string ResolveGivenPath(string given, string source, DownloadOptions options)
    {
        var path = Path.GetFullPath(ExpandHome(given));
        if (File.Exists(path))
            return ExtractToCache(path, options);
        if (!Directory.Exists(path))
            throw new DataException($"{source} path {path} does not exist");

        if (LooksLikeBatchFolder(path))
            return Validated(path, options);
        var batchFolder = Path.Combine(path, Cifar10Reader.FolderName);
        if (Directory.Exists(batchFolder))
            return Validated(batchFolder, options);
        var archive = Path.Combine(path, Downloader.ArchiveFileName);
        if (File.Exists(archive))
            return ExtractToCache(archive, options);
        throw new DataException($"{source} folder {path} holds no CIFAR-10 data: expected {Downloader.ArchiveFileName}, a {Cifar10Reader.FolderName} folder, or the batch files themselves");
    }

    static string ResolveFromCache(DownloadOptions options)
    {
        var batchFolder = Path.Combine(options.CacheDir, Cifar10Reader.FolderName);
        var archive = Path.Combine(options.CacheDir, Downloader.ArchiveFileName);
        if (File.Exists(archive))
            return ExtractOnce(archive, batchFolder, options);
        if (Directory.Exists(batchFolder))
            return Validated(batchFolder, options); // the user may have deleted the archive to save space
        if (!options.AllowDownload)
            throw new DataException($"no CIFAR-10 data found in the cache {options.CacheDir} and downloading is off. {Downloader.UseLocalDataHint}");
        options.Log?.Invoke($"Downloading CIFAR-10 from {options.Url} to {archive}");
        Downloader.Download(options);
        return ExtractOnce(archive, batchFolder, options);
    }

    static string ExtractToCache(string archive, DownloadOptions options)
    {
        var key = Sha256Hex(archive)[..16];
        var batchFolder = Path.Combine(options.CacheDir, "extracted", key, Cifar10Reader.FolderName);
        return ExtractOnce(archive, batchFolder, options);
    }

    /// <summary>Uses an earlier extraction when it is still valid, else extracts (again).</summary>
    static string ExtractOnce(string archive, string batchFolder, DownloadOptions options)
    {
        if (Directory.Exists(batchFolder))
        {
            try
            {
                return Validated(batchFolder, options);
            }
            catch (DataException e)
            {
                // Only complete, validated extractions are renamed into place, so this one was
                // damaged afterwards; the archive is the source of truth.
                options.Log?.Invoke($"Re-extracting {archive}: {e.Message}");
                Directory.Delete(batchFolder, recursive: true);
            }
        }
        options.Log?.Invoke($"Extracting {archive} to {batchFolder}");
        ArchiveExtractor.Extract(archive, batchFolder, options.RecordsPerFile);
        return batchFolder;
    }

    static string Validated(string folder, DownloadOptions options)
    {
        Cifar10Reader.Validate(folder, options.RecordsPerFile);
        return folder;
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
