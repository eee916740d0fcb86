using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
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
    /// Cheap structural check of a folder (no pixel data read): every file present, every batch
    /// of the exact size, and valid class names. Label bytes are checked when a split is read.
    /// </summary>
    public static void Validate(string folder) => Validate(folder, RecordsPerFile);

    internal static void Validate(string folder, int recordsPerFile)
    {
        CheckAllFilesPresent(folder);
        foreach (var name in TrainFileNames.Append(TestFileName))
            CheckBatchSize(Path.Combine(folder, name), recordsPerFile);
        ReadClassNames(folder);
    }

    /// <summary>The 10 class names from batches.meta.txt, one per line (trailing blank lines ignored).</summary>
    public static IReadOnlyList<string> ReadClassNames(string folder)
    {
        var path = Path.Combine(folder, MetaFileName);
        if (!File.Exists(path))
            throw new DataException($"CIFAR-10 class-name file {path} is missing");
        var lines = File.ReadAllLines(path).Select(line => line.Trim()).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        if (lines.Count != ClassCount)
            throw new DataException($"{path} holds {lines.Count} class names, expected {ClassCount}");
        var blank = lines.FindIndex(line => line.Length == 0);
        if (blank >= 0)
            throw new DataException($"{path} line {blank + 1} is empty, expected a class name");
        return lines;
    }

    /// <summary>SHA-256 of every file of the folder and one combined hash, to record in run configs.</summary>
    public static DataFingerprint Fingerprint(string folder)
    {
        CheckAllFilesPresent(folder);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in AllFileNames)
        {
            using var stream = File.OpenRead(Path.Combine(folder, name));
            files[name] = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        // Hash of the "name sha" lines, so the combined value changes when any file (or name) changes.
        var listing = string.Concat(files.Select(pair => $"{pair.Key} {pair.Value}\n"));
        var combined = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing)));
        return new DataFingerprint(files, combined);
    }

    static void CheckAllFilesPresent(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DataException($"CIFAR-10 folder {folder} does not exist");
        var missing = AllFileNames.Where(name => !File.Exists(Path.Combine(folder, name))).ToList();
        if (missing.Count > 0)
            throw new DataException($"CIFAR-10 folder {folder} is missing {string.Join(", ", missing)}");
    }

    static void CheckBatchSize(string path, int recordsPerFile)
    {
        if (!File.Exists(path))
            throw new DataException($"CIFAR-10 batch file {path} is missing");
        long expected = (long)recordsPerFile * RecordBytes;
        long found = new FileInfo(path).Length;
        if (found != expected)
            throw new DataException(string.Create(CultureInfo.InvariantCulture, $"{path} is {found:N0} bytes, expected {expected:N0} ({recordsPerFile:N0} records of {RecordBytes:N0} bytes)"));
    }

    /// <summary>
    /// Reads the files into one byte buffer, wraps it as a single [N,3073] uint8 tensor without
    /// copying, then slices the label column and the pixel columns: one bulk copy each,
    /// nothing per image in managed code.
    /// </summary>
    static Cifar10Dataset ReadBatches(string folder, IReadOnlyList<string> fileNames, int recordsPerFile)
    {
        var classNames = ReadClassNames(folder);
        long fileBytes = (long)recordsPerFile * RecordBytes;
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)(fileBytes * fileNames.Count)));
        for (int i = 0; i < fileNames.Count; i++)
        {
            var path = Path.Combine(folder, fileNames[i]);
            CheckBatchSize(path, recordsPerFile);
            using var stream = File.OpenRead(path);
            stream.ReadExactly(buffer.AsSpan((int)(i * fileBytes), (int)fileBytes));
        }

        using var scope = NewDisposeScope();
        long count = (long)recordsPerFile * fileNames.Count;
        // frombuffer shares the (pinned) managed array; the copies below own native memory.
        var records = torch.frombuffer(buffer, ScalarType.Byte).view(count, RecordBytes);
        var labelBytes = records.select(1, 0);
        CheckLabels(labelBytes, folder, fileNames, recordsPerFile);

        var labels = labelBytes.to_type(ScalarType.Int64);
        var images = records.narrow(1, 1, ImageBytes)
            .view(count, Cifar10Dataset.Channels, Cifar10Dataset.ImageSize, Cifar10Dataset.ImageSize)
            .contiguous();
        return new Cifar10Dataset(images, labels, classNames);
    }

    static void CheckLabels(Tensor labelBytes, string folder, IReadOnlyList<string> fileNames, int recordsPerFile)
    {
        using var scope = NewDisposeScope();
        var bad = labelBytes.ge(ClassCount).nonzero();
        if (bad.shape[0] == 0) return;
        long index = bad[0, 0].item<long>();
        byte value = labelBytes[index].item<byte>();
        var path = Path.Combine(folder, fileNames[(int)(index / recordsPerFile)]);
        throw new DataException($"{path}: record {index % recordsPerFile} has label byte {value}, expected 0-{ClassCount - 1}");
    }
}

/// <summary>SHA-256 (lower-case hex) of every file of a CIFAR-10 folder, and one hash over all of them.</summary>
public sealed record DataFingerprint(IReadOnlyDictionary<string, string> FileSha256, string CombinedSha256);
