using System.Security.Cryptography;
using Cifar10.Data;
using Xunit;

namespace Cifar10.Tests.Data;

public class DownloaderTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    string Destination => temp.Combine("cache", BinaryLayout.Cifar10.ArchiveFileName);

    internal static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(42).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void DownloadsOverHttpReportingProgress()
    {
        using var server = new LocalHttpServer { Body = RandomBytes(3_000_000) };
        var reports = new List<DownloadProgress>();

        Downloader.DownloadTo(server.Url, Destination, Md5(server.Body), new SynchronousProgress<DownloadProgress>(reports.Add));

        Assert.Equal(server.Body, File.ReadAllBytes(Destination));
        Assert.False(File.Exists(Destination + ".partial"));
        Assert.Equal(new DownloadProgress(0, server.Body.Length), reports[0]);
        Assert.Equal(new DownloadProgress(server.Body.Length, server.Body.Length), reports[^1]);
        Assert.True(reports.Zip(reports.Skip(1)).All(pair => pair.First.BytesDone <= pair.Second.BytesDone));
    }

    [Fact]
    public void Md5MismatchDeletesTheDownloadAndNamesBothHashes()
    {
        using var server = new LocalHttpServer { Body = RandomBytes(10_000) };
        var expected = new string('0', 32);

        var error = Assert.Throws<DownloadException>(() => Downloader.DownloadTo(server.Url, Destination, expected));

        Assert.Contains(Md5(server.Body), error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(Destination)!));
        Cifar10ReaderTests.AssertOneLine(error);
    }

    [Fact]
    public void OfflineErrorTellsTheUserWhatToDo()
    {
        var error = Assert.Throws<DownloadException>(() => Downloader.DownloadTo(LocalHttpServer.ClosedPortUrl(), Destination, null));

        Assert.Contains("network is unreachable", error.Message);
        Assert.Contains("--data PATH", error.Message);
        Assert.Contains("CIFAR10_DATA", error.Message);
        Assert.False(File.Exists(Destination));
        Assert.False(File.Exists(Destination + ".partial"));
        Cifar10ReaderTests.AssertOneLine(error);
    }

    [Fact]
    public void HttpErrorStatusIsReported()
    {
        using var server = new LocalHttpServer { Status = 404 };
        var error = Assert.Throws<DownloadException>(() => Downloader.DownloadTo(server.Url, Destination, null));
        Assert.Contains("404", error.Message);
        Assert.False(File.Exists(Destination));
    }

    [Fact]
    public void BodyCutShortIsNotKept()
    {
        using var server = new LocalHttpServer { Body = RandomBytes(50_000), AnnouncedLength = 100_000 };
        var error = Assert.Throws<DownloadException>(() => Downloader.DownloadTo(server.Url, Destination, null));
        Assert.Contains(server.Url, error.Message);
        Assert.False(File.Exists(Destination));
        Assert.False(File.Exists(Destination + ".partial"));
    }

    [Fact]
    public void StalledServerIsGivenUpOn()
    {
        using var server = new LocalHttpServer { Body = RandomBytes(1_000), AnnouncedLength = 2_000, HoldOpen = true };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<DownloadException>(() =>
            Downloader.DownloadTo(server.Url, Destination, null, stallTimeout: TimeSpan.FromMilliseconds(300)));
        Assert.Contains("stalled", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(Destination + ".partial"));
    }

    [Fact]
    public void FileUrlIsSupported()
    {
        var source = temp.Combine("source.tar.gz");
        var bytes = RandomBytes(5_000);
        File.WriteAllBytes(source, bytes);

        Downloader.DownloadTo(new Uri(source).AbsoluteUri, Destination, Md5(bytes));

        Assert.Equal(bytes, File.ReadAllBytes(Destination));
    }

    [Fact]
    public void ExistingArchiveIsNeverOverwritten()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Destination)!);
        File.WriteAllText(Destination, "already here");
        using var server = new LocalHttpServer { Body = RandomBytes(1_000) };

        Downloader.DownloadTo(server.Url, Destination, Md5(server.Body));

        Assert.Equal("already here", File.ReadAllText(Destination));
        Assert.Equal(0, server.RequestCount);
    }

    [Fact]
    public void DefaultsPointAtTheOfficialArchive()
    {
        var options = new DownloadOptions();
        Assert.Equal(("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"), options.SourceFor(BinaryLayout.Cifar10));
        Assert.Equal(("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"), options.SourceFor(BinaryLayout.Cifar100Fine));
        // A URL of the user's own is checked against the MD5 given with it, if any.
        Assert.Equal(("file:///x.tar.gz", (string?)null), (options with { Url = "file:///x.tar.gz" }).SourceFor(BinaryLayout.Cifar10));
        Assert.EndsWith(Path.Combine(".cache", "cifar10"), options.CacheDir);
        Assert.Equal("CIFAR10_DATA", BinaryLayout.Cifar10.EnvironmentVariable);
    }
}
