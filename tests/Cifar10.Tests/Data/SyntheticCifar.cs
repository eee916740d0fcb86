using System.Formats.Tar;
using System.IO.Compression;
using Cifar10.Data;

namespace Cifar10.Tests.Data;

/// <summary>
/// Writes small but valid CIFAR-10 binary folders and archives, so the data layer can be tested
/// without the 180 MB real set. The reader is told the record count (real files hold 10,000).
/// </summary>
static class SyntheticCifar
{
    public const int RecordsPerFile = 20;
    /// <summary>CIFAR-10's layout with <see cref="RecordsPerFile"/> records in each batch file.</summary>
    public static readonly BinaryLayout Layout = BinaryLayout.Cifar10.WithRecords(RecordsPerFile, RecordsPerFile);
    public static readonly string[] ClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Options that let <see cref="DataLocator"/> accept synthetic folders.</summary>
    public static DownloadOptions Options(string cacheDir) =>
        new() { CacheDir = cacheDir, AllowDownload = false };

    /// <summary>
    /// Writes a cifar-10-batches-bin layout into <paramref name="folder"/> with random labels and
    /// pixels; returns the raw bytes written per file name so tests can compare against them.
    /// </summary>
    public static Dictionary<string, byte[]> Write(string folder, int recordsPerFile = RecordsPerFile, int seed = 0)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var written = new Dictionary<string, byte[]>();
        foreach (var name in BinaryLayout.Cifar10.TrainFiles.Append(BinaryLayout.Cifar10.TestFile))
        {
            var bytes = new byte[recordsPerFile * BinaryLayout.Cifar10.RecordBytes];
            random.NextBytes(bytes);
            for (int record = 0; record < recordsPerFile; record++)
                bytes[record * BinaryLayout.Cifar10.RecordBytes] = (byte)random.Next(10);
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
            written[name] = bytes;
        }
        // The official file ends with a blank line; keep that quirk.
        File.WriteAllText(Path.Combine(folder, BinaryLayout.Cifar10.ClassNamesFile), string.Join("\n", ClassNames) + "\n\n");
        return written;
    }

    /// <summary>Writes a folder and packs it as cifar-10-batches-bin/… into a .tar.gz; returns the archive path.</summary>
    public static string WriteArchive(string workFolder, string? archiveName = null, int seed = 0,
        IEnumerable<TarEntry>? extraEntries = null)
    {
        archiveName ??= BinaryLayout.Cifar10.ArchiveFileName;
        var source = Path.Combine(workFolder, $"source-{seed}", BinaryLayout.Cifar10.FolderName);
        Write(source, seed: seed);
        var archive = Path.Combine(workFolder, archiveName);
        PackTarGz(source, archive, extraEntries);
        return archive;
    }

    /// <summary>Packs the files of <paramref name="batchFolder"/> under "cifar-10-batches-bin/" plus any extra entries.</summary>
    public static void PackTarGz(string batchFolder, string archivePath, IEnumerable<TarEntry>? extraEntries = null)
    {
        using var file = File.Create(archivePath);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, BinaryLayout.Cifar10.FolderName + "/"));
        foreach (var path in Directory.GetFiles(batchFolder).Order())
            tar.WriteEntry(path, $"{BinaryLayout.Cifar10.FolderName}/{Path.GetFileName(path)}");
        foreach (var entry in extraEntries ?? [])
            tar.WriteEntry(entry);
    }

    public static PaxTarEntry FileEntry(string name, byte[] content) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };
}
