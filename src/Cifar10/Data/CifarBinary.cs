using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>
/// Reads an extracted folder of a <see cref="BinaryLayout"/> (CIFAR-10's cifar-10-batches-bin,
/// CIFAR-100's cifar-100-binary): its training and test batches and its class names.
/// </summary>
internal static class CifarBinary
{
    public static ImageDataset ReadTrain(string folder, BinaryLayout layout) => Read(folder, layout, layout.TrainFiles);
    public static ImageDataset ReadTest(string folder, BinaryLayout layout) => Read(folder, layout, [layout.TestFile]);

    /// <summary>
    /// Checks a folder completely: every file present, every batch of the exact size, every label
    /// byte in range, distinct class names. Returns the SHA-256 of every file, computed in the same
    /// pass, for run configs (<see cref="DataFingerprint"/>).
    /// </summary>
    public static DataFingerprint Validate(string folder, BinaryLayout layout, CancellationToken cancellation = default)
    {
        CheckAllFilesPresent(folder, layout);
        for (int i = 0; i < layout.LabelBytes; i++) ReadClassNames(folder, layout with { LabelIndex = i });
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in layout.BatchFiles)
        {
            var path = Path.Combine(folder, name);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var file = new BatchFile(path, layout, layout.Records(name));
            while (file.Next(cancellation) is { } chunk)
            {
                sha.AppendData(chunk.Span);
                CheckLabels(chunk.Span, layout, path, file.FirstRecordOfChunk);
            }
            files[name] = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        foreach (var name in layout.ClassNameFiles)
            files[name] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, name))));
        return DataFingerprint.Of(files);
    }

    /// <summary>The class names of the layout's label, one per line (trailing blank lines ignored).</summary>
    public static IReadOnlyList<string> ReadClassNames(string folder, BinaryLayout layout)
    {
        var path = Path.Combine(folder, layout.ClassNamesFile);
        if (!File.Exists(path))
            throw new DataException($"{layout.Name} class-name file {path} is missing");
        return ClassNames.Parse(path, File.ReadAllLines(path), layout.ClassCount);
    }

    /// <summary>Whether <paramref name="folder"/> holds any file of the layout (so it is meant as one).</summary>
    public static bool LooksLike(string folder, BinaryLayout layout) =>
        Path.GetFileName(folder) == layout.FolderName || layout.AllFiles.Any(name => File.Exists(Path.Combine(folder, name)));

    static void CheckAllFilesPresent(string folder, BinaryLayout layout)
    {
        if (!Directory.Exists(folder))
            throw new DataException($"{layout.Name} folder {folder} does not exist");
        var missing = layout.AllFiles.Where(name => !File.Exists(Path.Combine(folder, name))).ToList();
        if (missing.Count > 0)
            throw new DataException($"{layout.Name} folder {folder} is missing {string.Join(", ", missing)}");
    }

    static void CheckLabels(ReadOnlySpan<byte> records, BinaryLayout layout, string path, int firstRecord)
    {
        for (int r = 0; r * layout.RecordBytes < records.Length; r++)
            for (int b = 0; b < layout.LabelBytes; b++)
            {
                byte label = records[r * layout.RecordBytes + b];
                if (label >= layout.ClassCounts[b])
                    throw new DataException($"{path}: record {firstRecord + r} has label byte {label}, expected 0-{layout.ClassCounts[b] - 1}");
            }
    }

    /// <summary>
    /// Reads the records straight into one native uint8 image tensor and the labels into another:
    /// the pixels are copied once, from the file buffer to their final place, with no intermediate
    /// copy of the whole set.
    /// </summary>
    static ImageDataset Read(string folder, BinaryLayout layout, IReadOnlyList<string> fileNames)
    {
        var classNames = ReadClassNames(folder, layout);
        long count = fileNames.Sum(name => (long)layout.Records(name));
        using var scope = NewDisposeScope();
        var images = empty([count, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize], dtype: ScalarType.Byte);
        var labelBytes = new byte[count];
        var pixels = images.bytes;
        long first = 0;
        foreach (var name in fileNames)
        {
            var path = Path.Combine(folder, name);
            using var file = new BatchFile(path, layout, layout.Records(name));
            while (file.Next(CancellationToken.None) is { } chunk)
            {
                var records = chunk.Span;
                CheckLabels(records, layout, path, file.FirstRecordOfChunk);
                long start = first + file.FirstRecordOfChunk;
                for (int r = 0; r * layout.RecordBytes < records.Length; r++)
                {
                    int offset = r * layout.RecordBytes;
                    labelBytes[start + r] = records[offset + layout.LabelIndex];
                    records.Slice(offset + layout.LabelBytes, ImageDataset.ImageBytes)
                           .CopyTo(pixels.Slice(checked((int)((start + r) * ImageDataset.ImageBytes)), ImageDataset.ImageBytes));
                }
            }
            first += layout.Records(name);
        }
        var labels = tensor(labelBytes, ScalarType.Byte).to_type(ScalarType.Int64);
        return new ImageDataset(images, labels, classNames);
    }
}

/// <summary>One batch file read in chunks of whole records, after its size was checked.</summary>
internal sealed class BatchFile : IDisposable
{
    /// <summary>Records per read: about 3 MB, large enough for full-speed reads, small enough to stay in cache.</summary>
    const int ChunkRecords = 1024;

    readonly string path;
    readonly int records;
    readonly FileStream stream;
    readonly byte[] buffer;
    readonly int recordBytes;
    int nextRecord;

    public BatchFile(string path, BinaryLayout layout, int records)
    {
        recordBytes = layout.RecordBytes;
        CheckSize(path, layout, records);
        this.path = path;
        this.records = records;
        stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        buffer = new byte[Math.Min(ChunkRecords, Math.Max(1, records)) * recordBytes];
    }

    /// <summary>The index of the first record in the chunk <see cref="Next"/> returned last.</summary>
    public int FirstRecordOfChunk { get; private set; }

    /// <summary>The next records, or null at the end of the file.</summary>
    public ReadOnlyMemory<byte>? Next(CancellationToken cancellation)
    {
        if (nextRecord >= records) return null;
        cancellation.ThrowIfCancellationRequested();
        int count = Math.Min(ChunkRecords, records - nextRecord);
        var chunk = buffer.AsMemory(0, count * recordBytes);
        try
        {
            stream.ReadExactly(chunk.Span);
        }
        catch (EndOfStreamException)
        {
            throw new DataException($"{path} ended early (was it truncated while being read?)");
        }
        FirstRecordOfChunk = nextRecord;
        nextRecord += count;
        return chunk;
    }

    public void Dispose() => stream.Dispose();

    static void CheckSize(string path, BinaryLayout layout, int records)
    {
        if (!File.Exists(path))
            throw new DataException($"{layout.Name} batch file {path} is missing");
        long expected = (long)records * layout.RecordBytes;
        long found = new FileInfo(path).Length;
        if (found != expected)
            throw new DataException(string.Create(CultureInfo.InvariantCulture,
                $"{path} is {found:N0} bytes, expected {expected:N0} ({records:N0} records of {layout.RecordBytes:N0} bytes)"));
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
/// <param name="FileSha256">Each file's name and SHA-256.</param>
/// <param name="CombinedSha256">One SHA-256 over all the files' names and hashes (<see cref="Of"/>): config.json's <c>data_sha256</c>.</param>
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
