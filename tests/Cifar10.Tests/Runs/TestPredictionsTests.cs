using System.IO.Compression;
using System.Text;
using Cifar10.Evaluation;
using Cifar10.Runs;
using Cifar10.Tests.Reporting;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Runs;

public class TestPredictionsTests : IDisposable
{
    readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    static MeasuredTest Sample()
    {
        var random = new Random(3);
        string[] classes = ["cat", "dog", "ship"];
        var probabilities = new float[7 * 3];
        for (int i = 0; i < 7; i++)
        {
            var row = Enumerable.Range(0, 3).Select(_ => (float)random.NextDouble()).ToArray();
            for (int c = 0; c < 3; c++) probabilities[i * 3 + c] = row[c] / row.Sum();
        }
        var result = EvaluationResult.FromProbabilities(probabilities, [0, 1, 2, 2, 1, 0, 1], classes);
        return new MeasuredTest(result, new TestMeasurement { Checkpoint = "best", CheckpointEpoch = 12, Tta = true, TtaConfidence = 0.6, ClassNames = classes });
    }

    [Fact]
    public void WhatIsWrittenReadsBackAsTheSameFigures()
    {
        var path = folder.Combine(TestPredictions.FileName);
        var written = Sample();
        TestPredictions.Write(path, written);

        var read = TestPredictions.Read(path);
        Assert.Equal(written.Measurement with { ClassNames = [] }, read.Measurement with { ClassNames = [] });
        Assert.Equal(written.Measurement.ClassNames, read.Measurement.ClassNames);
        Assert.Equal(written.Result.Probabilities, read.Result.Probabilities);
        Assert.Equal(written.Result.TrueLabels, read.Result.TrueLabels);
        Assert.Equal(written.Result.Predictions, read.Result.Predictions);
        Assert.Equal(written.Result.Confusion, read.Result.Confusion);
        Assert.Equal((written.Result.Accuracy, written.Result.Loss), (read.Result.Accuracy, read.Result.Loss));
        Assert.Equal("best, epoch 12, TTA below 0.6 confidence", read.Measurement.Describe());
    }

    [Fact]
    public void ItIsANumPyArchiveOfStoredNpyArrays()
    {
        // What np.load needs: a zip of .npy entries, each with NumPy's magic, a header padded to 64 bytes, the shape.
        var path = folder.Combine(TestPredictions.FileName);
        TestPredictions.Write(path, Sample());
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(["labels.npy", "measurement.json", "probabilities.npy"], zip.Entries.Select(e => e.FullName).Order());
        var probabilities = zip.GetEntry("probabilities.npy")!;
        Assert.Equal(probabilities.Length, probabilities.CompressedLength); // stored, as np.savez writes
        using var stream = probabilities.Open();
        var bytes = new byte[probabilities.Length];
        stream.ReadExactly(bytes);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        Assert.Equal(0, (10 + headerLength) % 64);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (7, 3), }", header.TrimEnd());
        Assert.EndsWith("\n", header);
        Assert.Equal(10 + headerLength + 7 * 3 * 4, bytes.Length);
    }

    [Theory]
    [InlineData("not a zip at all")]
    [InlineData("")]
    public void ADamagedFileIsAFailureThatNamesItAndTheWayOut(string content)
    {
        var path = folder.Combine(TestPredictions.FileName);
        File.WriteAllText(path, content);
        var error = Assert.Throws<CheckpointException>(() => TestPredictions.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("--reevaluate", error.Message);
    }

    [Fact]
    public void AnArrayThatDoesNotFitItsClassesIsRefused()
    {
        var path = folder.Combine(TestPredictions.FileName);
        TestPredictions.Write(path, Sample());
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("measurement.json")!.Delete();
            using var entry = new StreamWriter(zip.CreateEntry("measurement.json").Open());
            entry.Write("""{"checkpoint": "best", "class_names": ["cat", "dog"]}""");
        }
        var error = Assert.Throws<CheckpointException>(() => TestPredictions.Read(path));
        Assert.Contains("do not fit 2 classes", error.Message);
    }
}
