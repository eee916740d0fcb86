using Cifar10.Data;
using Xunit;

namespace Cifar10.Tests.Data;

/// <summary>
/// The real CIFAR-10 archive from ../shared/data (beside the repository), extracted once per
/// test run into a temporary cache that is deleted when the test process exits. Any test may
/// use <see cref="Folder"/>; the first use pays for the extraction (a few seconds).
/// </summary>
public static class RealData
{
    const string ArchiveRelativePath = "shared/data/cifar-10-binary.tar.gz";

    static readonly Lazy<string> archive = new(FindArchive);
    static readonly Lazy<string> folder = new(Extract);

    public static string ArchivePath => archive.Value;
    public static string Folder => folder.Value;

    static string FindArchive()
    {
        // Walk up from bin/Debug/net10.0 past the repository root to the folder that holds shared/.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ArchiveRelativePath);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"The real CIFAR-10 archive was not found: expected {ArchiveRelativePath} in a folder above {AppContext.BaseDirectory} " +
            "(the repository's sibling ../shared/data/cifar-10-binary.tar.gz). The real-data test needs it and is never skipped.");
    }

    static string Extract()
    {
        var root = Path.Combine(Path.GetTempPath(), "cifar10-tests");
        RemoveLeftoversOfDeadRuns(root);
        var cache = Path.Combine(root, $"real-{Environment.ProcessId}-{Guid.NewGuid():N}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(cache);
        return DataLocator.Resolve(ArchivePath, BinaryLayout.Cifar10, new DownloadOptions { CacheDir = cache, AllowDownload = false }).Folder;
    }

    // A test host killed before its exit handlers finish leaves 180 MB behind; the next run removes it.
    static void RemoveLeftoversOfDeadRuns(string root)
    {
        if (!Directory.Exists(root)) return;
        foreach (var folder in Directory.GetDirectories(root, "real-*"))
            if (int.TryParse(Path.GetFileName(folder).Split('-')[1], out var pid) && !IsRunning(pid))
                TryDelete(folder);
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Reads both real splits once for the test class.</summary>
public sealed class RealDataFixture : IDisposable
{
    public ImageDataset Train { get; }
    public ImageDataset Test { get; }
    public TimeSpan ExtractTime { get; }
    public TimeSpan ReadTrainTime { get; }
    public TimeSpan ReadTestTime { get; }

    public RealDataFixture()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var folder = RealData.Folder;
        ExtractTime = clock.Elapsed;
        clock.Restart();
        Train = CifarBinary.ReadTrain(folder, BinaryLayout.Cifar10);
        ReadTrainTime = clock.Elapsed;
        clock.Restart();
        Test = CifarBinary.ReadTest(folder, BinaryLayout.Cifar10);
        ReadTestTime = clock.Elapsed;
    }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
