using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cifar10.Evaluation;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>How a run's test set was measured: with which checkpoint (and the epoch it holds) and which test-time augmentation.</summary>
public sealed record TestMeasurement
{
    /// <summary>The checkpoint's folder name in the run: best, or last for a run without a validation set.</summary>
    public string Checkpoint { get; init; } = "";
    /// <summary>The epoch the checkpoint holds.</summary>
    public int CheckpointEpoch { get; init; }
    /// <summary>Whether test-time augmentation was used.</summary>
    public bool Tta { get; init; }
    /// <summary>With test-time augmentation: the confidence below which an image got every view (1: every image).</summary>
    public double TtaConfidence { get; init; } = 1;
    /// <summary>The classes, in the order of the probabilities' columns.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>"best, epoch 12, TTA": for progress lines and the report.</summary>
    public string Describe() =>
        $"{Checkpoint}, epoch {CheckpointEpoch}{(Tta ? TtaConfidence < 1 ? $", TTA below {TtaConfidence:G3} confidence" : ", TTA" : "")}";
}

/// <summary>A run's test set measured once: the figures and how they were measured.</summary>
/// <param name="Result">The figures, per image.</param>
/// <param name="Measurement">With which checkpoint and test-time augmentation.</param>
public sealed record MeasuredTest(EvaluationResult Result, TestMeasurement Measurement);

/// <summary>
/// test_predictions.npz: the class probabilities of every test image as the run measured them, so that
/// `report` draws the test figures from them in seconds instead of running the network again. It is
/// NumPy's .npz (a zip of .npy arrays, as np.savez writes it), so <c>np.load</c> reads it too:
/// <c>probabilities</c> (float32, images × classes), <c>labels</c> (int32, the true classes) and
/// <c>measurement.json</c> (<see cref="TestMeasurement"/>). A CIFAR-10 run's file is 440 KB.
/// </summary>
internal static partial class TestPredictions
{
    public const string FileName = "test_predictions.npz";
    const string ProbabilitiesEntry = "probabilities.npy";
    const string LabelsEntry = "labels.npy";
    const string MeasurementEntry = "measurement.json";

    public static void Write(string path, MeasuredTest test)
    {
        var result = test.Result;
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, ProbabilitiesEntry, Npy(result.Probabilities, "<f4", result.Count, result.ClassNames.Count));
            WriteEntry(zip, LabelsEntry, Npy(result.TrueLabels, "<i4", result.Count));
            WriteEntry(zip, MeasurementEntry, JsonSerializer.SerializeToUtf8Bytes(test.Measurement with { ClassNames = result.ClassNames.ToArray() }, JsonFiles.Options));
        });
    }

    /// <summary>The test set as <paramref name="path"/> keeps it; a <see cref="CheckpointException"/> naming the file when it is damaged.</summary>
    public static MeasuredTest Read(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var measurement = JsonSerializer.Deserialize<TestMeasurement>(ReadEntry(zip, MeasurementEntry), JsonFiles.Options)
                              ?? throw new InvalidDataException($"{MeasurementEntry} is empty");
            int classes = measurement.ClassNames.Count;
            var labels = ReadNpy<int>(ReadEntry(zip, LabelsEntry), "<i4", out var labelShape);
            var probabilities = ReadNpy<float>(ReadEntry(zip, ProbabilitiesEntry), "<f4", out var shape);
            if (labelShape.Length != 1 || shape.Length != 2 || shape[0] != labelShape[0] || shape[1] != classes)
                throw new InvalidDataException($"the arrays ({Shape(shape)} probabilities, {Shape(labelShape)} labels) do not fit {classes} classes");
            return new MeasuredTest(EvaluationResult.FromProbabilities(probabilities, labels, measurement.ClassNames), measurement);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or ArgumentException or UnauthorizedAccessException
                                         or FormatException or OverflowException)
        {
            throw new CheckpointException($"{path} is not a readable test predictions file ({e.Message}); `cifar10 report --reevaluate` measures the test set again");
        }
    }

    static void WriteEntry(ZipArchive zip, string name, byte[] content)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open(); // stored, as np.savez does
        entry.Write(content);
    }

    static byte[] ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"it has no {name}");
        using var stream = entry.Open();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }

    // The .npy format, version 1.0: magic, version, a little-endian header length, then a Python dict
    // literal padded with spaces to a multiple of 64 bytes and ended by a newline, then the raw array.
    static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];

    static byte[] Npy<T>(T[] values, string dtype, params long[] shape) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("test predictions are written on little-endian machines only");
        var dims = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {dims}, }}";
        int unpadded = NpyMagic.Length + 2 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - unpadded % 64) % 64) + "\n";
        var data = MemoryMarshal.AsBytes(values.AsSpan());
        var bytes = new byte[NpyMagic.Length + 2 + header.Length + data.Length];
        NpyMagic.CopyTo(bytes, 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(NpyMagic.Length), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, NpyMagic.Length + 2);
        data.CopyTo(bytes.AsSpan(NpyMagic.Length + 2 + header.Length));
        return bytes;
    }

    static T[] ReadNpy<T>(byte[] bytes, string dtype, out long[] shape) where T : unmanaged
    {
        if (bytes.Length < NpyMagic.Length + 2 || !bytes.AsSpan(0, NpyMagic.Length).SequenceEqual(NpyMagic))
            throw new InvalidDataException("an array is not a version 1.0 .npy array");
        int headerLength = BitConverter.ToUInt16(bytes, NpyMagic.Length);
        int dataStart = NpyMagic.Length + 2 + headerLength;
        if (dataStart > bytes.Length) throw new InvalidDataException("an array's header is cut short");
        var header = Encoding.ASCII.GetString(bytes, NpyMagic.Length + 2, headerLength);
        var match = NpyHeader().Match(header);
        if (!match.Success || match.Groups["descr"].Value != dtype)
            throw new InvalidDataException($"an array is not of {dtype} in C order");
        shape = match.Groups["shape"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes.AsSpan(dataStart);
        if (data.Length != count * Marshal.SizeOf<T>()) throw new InvalidDataException($"an array holds {data.Length} bytes, not the {Shape(shape)} its header says");
        return MemoryMarshal.Cast<byte, T>(data).ToArray();
    }

    static string Shape(long[] shape) => string.Join("×", shape);

    [GeneratedRegex(@"^\{'descr': '(?<descr>[^']*)', 'fortran_order': False, 'shape': \((?<shape>[0-9, ]*)\), \}\s*$")]
    private static partial Regex NpyHeader();
}
