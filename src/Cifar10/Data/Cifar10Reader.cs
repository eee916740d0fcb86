using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>
/// Reads the extracted "CIFAR-10 binary version" folder (cifar-10-batches-bin): five training
/// batches, one test batch and the class names. A record is 1 label byte followed by the red,
/// green and blue 32×32 planes, row-major (3,073 bytes); every batch file holds 10,000 records.
/// </summary>
public static class Cifar10Reader
{
    public const string FolderName = "cifar-10-batches-bin";
    public const string MetaFileName = "batches.meta.txt";
    public const string TestFileName = "test_batch.bin";
    public static readonly IReadOnlyList<string> TrainFileNames =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    public static readonly IReadOnlyList<string> AllFileNames = [.. TrainFileNames, TestFileName, MetaFileName];

    public const int RecordsPerFile = 10_000;
    public const int ClassCount = 10;
    public const int ImageBytes = Cifar10Dataset.Channels * Cifar10Dataset.ImageSize * Cifar10Dataset.ImageSize;
    public const int RecordBytes = 1 + ImageBytes;

    public static Cifar10Dataset ReadTrain(string folder) => ReadTrain(folder, RecordsPerFile);
    public static Cifar10Dataset ReadTest(string folder) => ReadTest(folder, RecordsPerFile);

    // Tests write small synthetic batches; everything else uses the official 10,000 records per file.
    internal static Cifar10Dataset ReadTrain(string folder, int recordsPerFile) => ReadBatches(folder, TrainFileNames, recordsPerFile);
    internal static Cifar10Dataset ReadTest(string folder, int recordsPerFile) => ReadBatches(folder, [TestFileName], recordsPerFile);

    /// <summary>
    /// Checks a folder completely: every file present, every batch of the exact size, every label
    /// byte in 0–9, ten distinct class names. Returns the SHA-256 of every file, computed in the
    /// same pass, for run configs (<see cref="DataFingerprint"/>).
    /// </summary>
    public static DataFingerprint Validate(string folder, CancellationToken cancellation = default) =>
        Validate(folder, RecordsPerFile, cancellation);

    internal static DataFingerprint Validate(string folder, int recordsPerFile, CancellationToken cancellation = default)
    {
        CheckAllFilesPresent(folder);
        ReadClassNames(folder);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in TrainFileNames.Append(TestFileName))
        {
            var path = Path.Combine(folder, name);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var file = new BatchFile(path, recordsPerFile);
            while (file.Next(cancellation) is { } chunk)
            {
                sha.AppendData(chunk.Span);
                CheckLabels(chunk.Span, path, file.FirstRecordOfChunk);
            }
            files[name] = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        files[MetaFileName] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, MetaFileName))));
        return DataFingerprint.Of(files);
    }

    /// <summary>The 10 class names from batches.meta.txt, one per line (trailing blank lines ignored).</summary>
    public static IReadOnlyList<string> ReadClassNames(string folder)
    {
        var path = Path.Combine(folder, MetaFileName);
        if (!File.Exists(path))
            throw new DataException($"CIFAR-10 class-name file {path} is missing");
        return ClassNames.Parse(path, File.ReadAllLines(path), ClassCount);
    }

    static void CheckAllFilesPresent(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DataException($"CIFAR-10 folder {folder} does not exist");
        var missing = AllFileNames.Where(name => !File.Exists(Path.Combine(folder, name))).ToList();
        if (missing.Count > 0)
            throw new DataException($"CIFAR-10 folder {folder} is missing {string.Join(", ", missing)}");
    }

    static void CheckLabels(ReadOnlySpan<byte> records, string path, int firstRecord)
    {
        for (int r = 0; r * RecordBytes < records.Length; r++)
        {
            byte label = records[r * RecordBytes];
            if (label >= ClassCount)
                throw new DataException($"{path}: record {firstRecord + r} has label byte {label}, expected 0-{ClassCount - 1}");
        }
    }

    /// <summary>
    /// Reads the records straight into one native uint8 image tensor and the labels into another:
    /// the pixels are copied once, from the file buffer to their final place, with no intermediate
    /// copy of the whole set.
    /// </summary>
    static Cifar10Dataset ReadBatches(string folder, IReadOnlyList<string> fileNames, int recordsPerFile)
    {
        var classNames = ReadClassNames(folder);
        long count = (long)recordsPerFile * fileNames.Count;
        using var scope = NewDisposeScope();
        var images = empty([count, Cifar10Dataset.Channels, Cifar10Dataset.ImageSize, Cifar10Dataset.ImageSize], dtype: ScalarType.Byte);
        var labelBytes = new byte[count];
        var pixels = images.bytes;
        for (int f = 0; f < fileNames.Count; f++)
        {
            var path = Path.Combine(folder, fileNames[f]);
            using var file = new BatchFile(path, recordsPerFile);
            while (file.Next(CancellationToken.None) is { } chunk)
            {
                var records = chunk.Span;
                CheckLabels(records, path, file.FirstRecordOfChunk);
                long first = (long)f * recordsPerFile + file.FirstRecordOfChunk;
                for (int r = 0; r * RecordBytes < records.Length; r++)
                {
                    labelBytes[first + r] = records[r * RecordBytes];
                    records.Slice(r * RecordBytes + 1, ImageBytes).CopyTo(pixels.Slice(checked((int)((first + r) * ImageBytes)), ImageBytes));
                }
            }
        }
        var labels = tensor(labelBytes, ScalarType.Byte).to_type(ScalarType.Int64);
        return new Cifar10Dataset(images, labels, classNames);
    }
}

/// <summary>One batch file read in chunks of whole records, after its size was checked.</summary>
internal sealed class BatchFile : IDisposable
{
    /// <summary>Records per read: 3 MB, large enough for full-speed reads, small enough to stay in cache.</summary>
    const int ChunkRecords = 1024;

    readonly string path;
    readonly int recordsPerFile;
    readonly FileStream stream;
    readonly byte[] buffer;
    int nextRecord;

    public BatchFile(string path, int recordsPerFile)
    {
        CheckSize(path, recordsPerFile);
        this.path = path;
        this.recordsPerFile = recordsPerFile;
        stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        buffer = new byte[Math.Min(ChunkRecords, Math.Max(1, recordsPerFile)) * Cifar10Reader.RecordBytes];
    }

    /// <summary>The index of the first record in the chunk <see cref="Next"/> returned last.</summary>
    public int FirstRecordOfChunk { get; private set; }

    /// <summary>The next records, or null at the end of the file.</summary>
    public ReadOnlyMemory<byte>? Next(CancellationToken cancellation)
    {
        if (nextRecord >= recordsPerFile) return null;
        cancellation.ThrowIfCancellationRequested();
        int records = Math.Min(ChunkRecords, recordsPerFile - nextRecord);
        var chunk = buffer.AsMemory(0, records * Cifar10Reader.RecordBytes);
        try
        {
            stream.ReadExactly(chunk.Span);
        }
        catch (EndOfStreamException)
        {
            throw new DataException($"{path} ended early (was it truncated while being read?)");
        }
        FirstRecordOfChunk = nextRecord;
        nextRecord += records;
        return chunk;
    }

    public void Dispose() => stream.Dispose();

    static void CheckSize(string path, int recordsPerFile)
    {
        if (!File.Exists(path))
            throw new DataException($"CIFAR-10 batch file {path} is missing");
        long expected = (long)recordsPerFile * Cifar10Reader.RecordBytes;
        long found = new FileInfo(path).Length;
        if (found != expected)
            throw new DataException(string.Create(CultureInfo.InvariantCulture,
                $"{path} is {found:N0} bytes, expected {expected:N0} ({recordsPerFile:N0} records of {Cifar10Reader.RecordBytes:N0} bytes)"));
    }
}

/// <summary>Class-name files: one name per line, trailing blank lines ignored, names distinct.</summary>
internal static class ClassNames
{
    public static IReadOnlyList<string> Parse(string path, IEnumerable<string> fileLines, int expectedCount)
    {
        var lines = fileLines.Select(line => line.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        if (lines.Count != expectedCount)
            throw new DataException($"{path} holds {lines.Count} class names, expected {expectedCount}");
        var blank = lines.FindIndex(line => line.Length == 0);
        if (blank >= 0)
            throw new DataException($"{path} line {blank + 1} is empty, expected a class name");
        var duplicate = lines.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new DataException($"{path} names the class '{duplicate.Key}' more than once");
        return lines;
    }
}

/// <summary>SHA-256 (lower-case hex) of every file of a data folder, and one hash over all of them.</summary>
public sealed record DataFingerprint(IReadOnlyDictionary<string, string> FileSha256, string CombinedSha256)
{
    /// <summary>The combined hash covers the "name sha" lines, so it changes when any file (or name) changes.</summary>
    public static DataFingerprint Of(IReadOnlyDictionary<string, string> files)
    {
        var sorted = new SortedDictionary<string, string>(files.ToDictionary(), StringComparer.Ordinal);
        var listing = string.Concat(sorted.Select(pair => $"{pair.Key} {pair.Value}\n"));
        return new DataFingerprint(sorted, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))));
    }
}
