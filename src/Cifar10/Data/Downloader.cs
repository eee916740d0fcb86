using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Cifar10.Data;

/// <summary>
/// Downloads the CIFAR-10 archive (http, https or file:// URLs). The bytes go to
/// "&lt;file&gt;.partial" and are renamed to the final name only once complete and with the
/// expected MD5, so a crash or a bad download never leaves a file that looks finished.
/// </summary>
internal static class Downloader
{
    internal const string UseLocalDataHint =
        "Pass --data PATH (the .tar.gz archive, a folder holding it, or its extracted folder) or set CIFAR10_DATA (CIFAR100_DATA).";

    /// <summary>
    /// Downloads <paramref name="url"/> to <paramref name="destination"/>. An existing destination
    /// is never overwritten (it is either a download we verified or a file the user put there).
    /// </summary>
    /// <param name="stallTimeout">Give up when no data arrives for this long (default: one minute).</param>
    public static void DownloadTo(string url, string destination, string? expectedMd5,
        IProgress<DownloadProgress>? progress = null, TimeSpan? stallTimeout = null, CancellationToken cancellation = default)
    {
        if (File.Exists(destination)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var partial = destination + ".partial";
        try
        {
            // HttpClient is asynchronous at heart; the CLI has no synchronisation context, so blocking here is safe.
            var actualMd5 = FetchAsync(url, partial, progress, stallTimeout ?? TimeSpan.FromMinutes(1), cancellation).GetAwaiter().GetResult();
            if (expectedMd5 is not null && !actualMd5.Equals(expectedMd5, StringComparison.OrdinalIgnoreCase))
                throw new DownloadException($"{url} downloaded with MD5 {actualMd5}, expected {expectedMd5.ToLowerInvariant()}; the download was deleted");
            try
            {
                File.Move(partial, destination, overwrite: false);
            }
            catch (IOException) when (File.Exists(destination))
            {
                // Another process finished the same download first: keep its file, drop ours.
                TryDelete(partial);
            }
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
    }

    /// <summary>Copies the URL's content to <paramref name="partial"/>; returns its MD5 (lower-case hex).</summary>
    static async Task<string> FetchAsync(string url, string partial, IProgress<DownloadProgress>? progress,
        TimeSpan stallTimeout, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new DownloadException($"download URL '{url}' is not an absolute URL");

        if (uri.IsFile)
        {
            if (!File.Exists(uri.LocalPath))
                throw new DownloadException($"download source {uri.LocalPath} does not exist. {UseLocalDataHint}");
            await using var file = File.OpenRead(uri.LocalPath);
            using var fileStall = new StallWatch(stallTimeout, cancellation);
            return await CopyHashingAsync(file, file.Length, partial, progress, url, fileStall);
        }
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            throw new DownloadException($"download URL {url} has the unsupported scheme '{uri.Scheme}' (use https://, http:// or file://)");

        // The stall watch, not HttpClient.Timeout, bounds the wait: a slow but steady download may take long.
        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var stall = new StallWatch(stallTimeout, cancellation);
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, stall.Restart());
            if (!response.IsSuccessStatusCode)
                throw new DownloadException($"Downloading from {url} failed: the server answered {(int)response.StatusCode} {response.ReasonPhrase}. {UseLocalDataHint}");
            await using var body = await response.Content.ReadAsStreamAsync(stall.Restart());
            return await CopyHashingAsync(body, response.Content.Headers.ContentLength, partial, progress, url, stall);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.Unknown)
        {
            // Connection refused, DNS failure, no route: the usual picture on an offline machine.
            throw new DownloadException($"Downloading from {url} failed because the network is unreachable ({e.Message}). {UseLocalDataHint}", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new DownloadException($"Downloading from {url} failed ({e.Message}). {UseLocalDataHint}", e);
        }
        catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
        {
            throw new DownloadException($"Downloading from {url} stalled: no data for {stallTimeout.TotalSeconds:0.#} s. {UseLocalDataHint}", e);
        }
    }

    static async Task<string> CopyHashingAsync(Stream input, long? totalBytes, string partial,
        IProgress<DownloadProgress>? progress, string url, StallWatch stall)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 16];
        long done = 0;
        progress?.Report(new DownloadProgress(0, totalBytes));
        var sinceReport = Stopwatch.StartNew();
        await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            int read;
            while ((read = await input.ReadAsync(buffer, stall.Restart())) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read));
                md5.AppendData(buffer, 0, read);
                done += read;
                // Reporting every chunk would flood a console progress bar; ten times a second is plenty.
                if (sinceReport.ElapsedMilliseconds >= 100)
                {
                    progress?.Report(new DownloadProgress(done, totalBytes));
                    sinceReport.Restart();
                }
            }
        }
        progress?.Report(new DownloadProgress(done, totalBytes));
        if (totalBytes is long total && done != total)
            throw new DownloadException(string.Create(CultureInfo.InvariantCulture,
                $"Downloading from {url} stopped after {done:N0} of {total:N0} bytes. {UseLocalDataHint}"));
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    /// <summary>A cancellation token that fires when <see cref="Restart"/> was not called for the stall timeout (or the caller cancels).</summary>
    sealed class StallWatch(TimeSpan timeout, CancellationToken cancellation) : IDisposable
    {
        readonly CancellationTokenSource source = CancellationTokenSource.CreateLinkedTokenSource(cancellation);

        public CancellationToken Restart()
        {
            source.CancelAfter(timeout);
            return source.Token;
        }

        public void Dispose() => source.Dispose();
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
