using System.Formats.Tar;
using Cifar10.Data;
using Xunit;

namespace Cifar10.Tests.Data;

public class DataLocatorTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    string Cache => temp.Combine("cache");

    [Fact]
    public void ArchiveIsExtractedOnceIntoTheCache()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path);
        var log = new List<string>();
        var options = SyntheticCifar.Options(Cache) with { Log = log.Add };

        var folder = DataLocator.Resolve(archive, SyntheticCifar.Layout, options).Folder;

        Assert.Equal(BinaryLayout.Cifar10.FolderName, Path.GetFileName(folder));
        Assert.Equal(Path.Combine(Cache, "extracted"), Path.GetDirectoryName(Path.GetDirectoryName(folder)));
        Assert.Matches("^[0-9a-f]{16}$", Path.GetFileName(Path.GetDirectoryName(folder)));
        using (var train = CifarBinary.ReadTrain(folder, SyntheticCifar.Layout))
            Assert.Equal(5 * SyntheticCifar.RecordsPerFile, train.Count);
        Assert.Single(log, line => line.StartsWith("Extracting"));

        Assert.Equal(folder, DataLocator.Resolve(archive, SyntheticCifar.Layout, options).Folder);
        Assert.Single(log, line => line.StartsWith("Extracting")); // second run reuses the extraction
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(folder)!, ".extracting-*"));
    }

    [Fact]
    public void DifferentArchivesGoToDifferentFolders()
    {
        var first = SyntheticCifar.WriteArchive(temp.Combine("a"), seed: 1);
        var second = SyntheticCifar.WriteArchive(temp.Combine("b"), seed: 2);
        Assert.NotEqual(DataLocator.Resolve(first, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder, DataLocator.Resolve(second, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
    }

    [Fact]
    public void FolderHoldingTheArchiveIsAccepted()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Combine("downloads"));
        var folder = DataLocator.Resolve(Path.GetDirectoryName(archive), SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder;
        Assert.StartsWith(Path.Combine(Cache, "extracted"), folder);
        CifarBinary.Validate(folder, SyntheticCifar.Layout);
    }

    [Fact]
    public void ExtractedFolderIsUsedInPlace()
    {
        var batches = temp.Combine("data", BinaryLayout.Cifar10.FolderName);
        SyntheticCifar.Write(batches);
        Assert.Equal(batches, DataLocator.Resolve(batches, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Equal(batches, DataLocator.Resolve(temp.Combine("data"), SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.False(Directory.Exists(Cache)); // nothing copied or extracted
    }

    [Fact]
    public void BatchFilesInAFolderWithAnotherNameAreAccepted()
    {
        var folder = temp.Combine("my-cifar");
        SyntheticCifar.Write(folder);
        Assert.Equal(folder, DataLocator.Resolve(folder, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
    }

    [Fact]
    public void IncompleteExtractedFolderReportsTheMissingFile()
    {
        var batches = temp.Combine(BinaryLayout.Cifar10.FolderName);
        SyntheticCifar.Write(batches);
        File.Delete(Path.Combine(batches, "data_batch_2.bin"));
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(batches, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Contains("missing data_batch_2.bin", error.Message);
    }

    [Fact]
    public void MissingPathAndEmptyFolderAreClearErrors()
    {
        var missing = temp.Combine("nowhere");
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(missing, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Equal($"--data path {missing} does not exist", error.Message);

        var empty = temp.Combine("empty");
        Directory.CreateDirectory(empty);
        error = Assert.Throws<DataException>(() => DataLocator.Resolve(empty, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Contains($"--data folder {empty} holds no CIFAR-10 data", error.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.001)]
    public void TruncatedArchiveFailsAndLeavesNothingToTrust(double keptFraction)
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path);
        var truncated = temp.Combine("truncated.tar.gz");
        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(truncated, bytes[..(int)(bytes.Length * keptFraction)]);

        for (int attempt = 0; attempt < 2; attempt++) // a second run must not find a half-made folder either
        {
            var error = Assert.Throws<DataException>(() => DataLocator.Resolve(truncated, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
            Assert.Contains(truncated, error.Message);
            Cifar10ReaderTests.AssertOneLine(error);
        }
        var extracted = Path.Combine(Cache, "extracted");
        var leftovers = Directory.Exists(extracted) ? Directory.GetFileSystemEntries(extracted, "*", SearchOption.AllDirectories) : [];
        Assert.DoesNotContain(leftovers, path => Path.GetFileName(path) == BinaryLayout.Cifar10.FolderName || Path.GetFileName(path).StartsWith(".extracting"));
    }

    [Fact]
    public void FileThatIsNoArchiveIsRejected()
    {
        var notArchive = temp.Combine("notes.txt");
        File.WriteAllText(notArchive, "hello");
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(notArchive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Equal($"{notArchive} is not a gzip file; expected a .tar.gz archive such as cifar-10-binary.tar.gz", error.Message);
    }

    [Fact]
    public void WellFormedArchiveMissingABatchIsRejected()
    {
        var batches = temp.Combine("source", BinaryLayout.Cifar10.FolderName);
        SyntheticCifar.Write(batches);
        File.Delete(Path.Combine(batches, "data_batch_5.bin"));
        var archive = temp.Combine("incomplete.tar.gz");
        SyntheticCifar.PackTarGz(batches, archive);

        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.StartsWith($"archive {archive} is incomplete or corrupt", error.Message);
        Assert.Contains("missing data_batch_5.bin", error.Message);
        Assert.False(Directory.Exists(Cache)); // a failed extraction leaves not even an empty folder behind
    }

    [Theory]
    [InlineData("cifar-10-batches-bin/../../escaped.txt")]
    [InlineData("../escaped.txt")]
    [InlineData("/tmp/cifar10-tests/escaped-absolute.txt")]
    public void PathTraversalEntryIsRejected(string entryName)
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path, extraEntries: [SyntheticCifar.FileEntry(entryName, "pwned"u8.ToArray())]);
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Contains("unsafe entry", error.Message);
        Assert.Contains(archive, error.Message);
        Assert.Empty(Directory.GetFiles(temp.Path, "escaped*", SearchOption.AllDirectories));
        Assert.False(File.Exists("/tmp/cifar10-tests/escaped-absolute.txt"));
        Assert.False(Directory.Exists(Cache));
    }

    [Fact]
    public void LinkEntriesAreRejected()
    {
        var link = new PaxTarEntry(TarEntryType.SymbolicLink, "cifar-10-batches-bin/link") { LinkName = "/etc" };
        var archive = SyntheticCifar.WriteArchive(temp.Path, extraEntries: [link]);
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Contains("SymbolicLink", error.Message);
    }

    [Fact]
    public void EntriesOutsideTheBatchFolderAreIgnored()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path, extraEntries: [SyntheticCifar.FileEntry("readme.html", "hi"u8.ToArray())]);
        var folder = DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder;
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(folder)!, "readme.html")));
    }

    [Fact]
    public void AbandonedTemporaryFoldersAreCleanedUp()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path);
        var folder = DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder;
        var keyFolder = Path.GetDirectoryName(folder)!;
        Directory.Delete(folder, recursive: true);
        var abandoned = Directory.CreateDirectory(Path.Combine(keyFolder, ".extracting-old"));
        abandoned.LastWriteTimeUtc = DateTime.UtcNow.AddDays(-1);
        var recent = Directory.CreateDirectory(Path.Combine(keyFolder, ".extracting-running"));

        Assert.Equal(folder, DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.False(Directory.Exists(abandoned.FullName));
        Assert.True(Directory.Exists(recent.FullName)); // may belong to a concurrent run
    }

    [Fact]
    public void AnArchiveWithALabelOutOfRangeIsRejectedBeforeItIsTrusted()
    {
        var source = temp.Combine("source", BinaryLayout.Cifar10.FolderName);
        SyntheticCifar.Write(source);
        var path = Path.Combine(source, "data_batch_2.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[3 * BinaryLayout.Cifar10.RecordBytes] = 11;
        File.WriteAllBytes(path, bytes);
        var archive = temp.Combine("bad-label.tar.gz");
        SyntheticCifar.PackTarGz(source, archive);

        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)));
        Assert.Contains("label byte 11", error.Message);
        Assert.False(Directory.Exists(Cache));
    }

    [Fact]
    public void AnExtractionDamagedLaterIsNoticedByItsChecksumsAndRedone()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path);
        var log = new List<string>();
        var options = SyntheticCifar.Options(Cache) with { Log = log.Add };
        var located = DataLocator.Resolve(archive, SyntheticCifar.Layout, options);
        var path = Path.Combine(located.Folder, "data_batch_4.bin");
        var original = File.ReadAllBytes(path);
        var damaged = original.ToArray();
        damaged[500] ^= 0xFF; // a pixel: same size, valid labels, different content
        File.WriteAllBytes(path, damaged);

        var again = DataLocator.Resolve(archive, SyntheticCifar.Layout, options);
        Assert.Contains(log, line => line.StartsWith("Re-extracting") && line.Contains("checksums"));
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Equal(located.Fingerprint.CombinedSha256, again.Fingerprint.CombinedSha256);
    }

    [Fact]
    public void DamagedEarlierExtractionIsRedone()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Path);
        var folder = DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder;
        File.Delete(Path.Combine(folder, "test_batch.bin"));
        Assert.Equal(folder, DataLocator.Resolve(archive, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.True(File.Exists(Path.Combine(folder, "test_batch.bin")));
    }
}

/// <summary>Resolution without --data: the environment variable, then the cache, then a download.</summary>
[Collection(EnvironmentCollection.Name)]
public class DataLocatorDefaultTests : IDisposable
{
    readonly TempFolder temp = new();
    readonly EnvironmentVariableScope noVariable = new(BinaryLayout.Cifar10.EnvironmentVariable, null);

    public void Dispose()
    {
        noVariable.Dispose();
        temp.Dispose();
    }

    string Cache => temp.Combine("cache");

    [Fact]
    public void EnvironmentVariableIsUsedWhenNoOptionIsGiven()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Combine("elsewhere"));
        using var variable = new EnvironmentVariableScope(BinaryLayout.Cifar10.EnvironmentVariable, archive);
        var folder = DataLocator.Resolve(null, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder;
        Assert.StartsWith(Path.Combine(Cache, "extracted"), folder);
    }

    [Fact]
    public void OptionWinsOverEnvironmentVariable()
    {
        var batches = temp.Combine("option", BinaryLayout.Cifar10.FolderName);
        SyntheticCifar.Write(batches);
        using var variable = new EnvironmentVariableScope(BinaryLayout.Cifar10.EnvironmentVariable, temp.Combine("does-not-exist"));
        Assert.Equal(batches, DataLocator.Resolve(batches, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(null, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.StartsWith("CIFAR10_DATA path", error.Message);
    }

    [Fact]
    public void ArchiveInTheCacheIsExtractedBesideIt()
    {
        Directory.CreateDirectory(Cache);
        SyntheticCifar.WriteArchive(Cache);
        Assert.Equal(Path.Combine(Cache, BinaryLayout.Cifar10.FolderName), DataLocator.Resolve(null, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
    }

    [Fact]
    public void EmptyCacheDownloadsFromTheConfiguredUrl()
    {
        var archive = SyntheticCifar.WriteArchive(temp.Combine("server"));
        using var server = new LocalHttpServer { Body = File.ReadAllBytes(archive) };
        var progress = new List<DownloadProgress>();
        var options = SyntheticCifar.Options(Cache) with
        {
            AllowDownload = true,
            Url = server.Url,
            ExpectedMd5 = DownloaderTests.Md5(server.Body),
            Progress = new SynchronousProgress<DownloadProgress>(progress.Add),
        };

        var folder = DataLocator.Resolve(null, SyntheticCifar.Layout, options).Folder;

        Assert.Equal(Path.Combine(Cache, BinaryLayout.Cifar10.FolderName), folder);
        Assert.Equal(server.Body, File.ReadAllBytes(Path.Combine(Cache, BinaryLayout.Cifar10.ArchiveFileName)));
        Assert.Equal(server.Body.Length, progress[^1].BytesDone);
        Assert.Equal(folder, DataLocator.Resolve(null, SyntheticCifar.Layout, options).Folder);
        Assert.Equal(1, server.RequestCount);
    }

    [Fact]
    public void ADownloadThatIsNoArchiveIsNotCachedAndDoesNotPoisonTheNextCall()
    {
        using var wrong = new LocalHttpServer { Body = "<html>a login page</html>"u8.ToArray() };
        var options = SyntheticCifar.Options(Cache) with { AllowDownload = true, Url = wrong.Url, ExpectedMd5 = null };
        var error = Assert.Throws<DownloadException>(() => DataLocator.Resolve(null, SyntheticCifar.Layout, options));
        Assert.Contains("not a usable CIFAR-10 archive", error.Message);
        Assert.False(File.Exists(Path.Combine(Cache, BinaryLayout.Cifar10.ArchiveFileName)));
        Assert.Empty(Directory.Exists(Cache) ? Directory.GetFiles(Cache, "*", SearchOption.AllDirectories) : []);

        var archive = SyntheticCifar.WriteArchive(temp.Combine("server"));
        using var right = new LocalHttpServer { Body = File.ReadAllBytes(archive) };
        var folder = DataLocator.Resolve(null, SyntheticCifar.Layout, options with { Url = right.Url }).Folder;
        Assert.Equal(Path.Combine(Cache, BinaryLayout.Cifar10.FolderName), folder);
    }

    [Fact]
    public void OfflineWithEmptyCacheTellsTheUserAboutDataOption()
    {
        var options = SyntheticCifar.Options(Cache) with { AllowDownload = true, Url = LocalHttpServer.ClosedPortUrl() };
        var error = Assert.Throws<DownloadException>(() => DataLocator.Resolve(null, SyntheticCifar.Layout, options).Folder);
        Assert.Contains("--data", error.Message);
        Assert.Contains("CIFAR10_DATA", error.Message);
    }

    [Fact]
    public void DownloadCanBeSwitchedOff()
    {
        var error = Assert.Throws<DataException>(() => DataLocator.Resolve(null, SyntheticCifar.Layout, SyntheticCifar.Options(Cache)).Folder);
        Assert.Contains("downloading is off", error.Message);
        Assert.Contains("--data", error.Message);
    }
}

/// <summary>IProgress that calls back on the reporting thread (Progress&lt;T&gt; posts to the thread pool, too late for asserts).</summary>
sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
