using Cifar10.Data;
using TorchSharp;
using Xunit;

namespace Cifar10.Tests.Data;

public class Cifar10ReaderTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    const int Records = SyntheticCifar.RecordsPerFile;

    [Fact]
    public void PixelPlanesLandAtChannelRowColumn()
    {
        var raw = SyntheticCifar.Write(temp.Path);
        using var train = CifarBinary.ReadTrain(temp.Path, SyntheticCifar.Layout);

        Assert.Equal(5 * Records, train.Count);
        Assert.Equal(new long[] { 5 * Records, 3, 32, 32 }, train.Images.shape);
        Assert.Equal(torch.ScalarType.Byte, train.Images.dtype);
        Assert.Equal(torch.ScalarType.Int64, train.Labels.dtype);

        // Record r of data_batch_k is image (k-1)*Records + r; its byte 1 + c*1024 + y*32 + x is pixel [c,y,x].
        foreach (var (file, record, c, y, x) in new[] { (1, 0, 0, 0, 0), (1, 5, 2, 31, 31), (3, 7, 1, 4, 29), (5, 19, 2, 17, 3) })
        {
            var bytes = raw[$"data_batch_{file}.bin"];
            int image = (file - 1) * Records + record;
            int recordStart = record * BinaryLayout.Cifar10.RecordBytes;
            Assert.Equal(bytes[recordStart + 1 + c * 1024 + y * 32 + x], train.Images[image, c, y, x].item<byte>());
            Assert.Equal(bytes[recordStart], train.Labels[image].item<long>());
        }

        // And everything at once: the images are the records without their label bytes, in order.
        var expected = BinaryLayout.Cifar10.TrainFiles.SelectMany(name => raw[name].Chunk(BinaryLayout.Cifar10.RecordBytes).SelectMany(r => r.Skip(1))).ToArray();
        Assert.Equal(expected, train.Images.data<byte>().ToArray());
        Assert.Equal(SyntheticCifar.ClassNames, train.ClassNames);
    }

    [Fact]
    public void TestSplitComesFromTestBatch()
    {
        var raw = SyntheticCifar.Write(temp.Path, seed: 3);
        using var test = CifarBinary.ReadTest(temp.Path, SyntheticCifar.Layout);
        Assert.Equal(Records, test.Count);
        var labels = raw[BinaryLayout.Cifar10.TestFile].Chunk(BinaryLayout.Cifar10.RecordBytes).Select(r => (long)r[0]).ToArray();
        Assert.Equal(labels, test.Labels.data<long>().ToArray());
    }

    [Fact]
    public void LabelOutOfRangeNamesFileRecordAndByte()
    {
        SyntheticCifar.Write(temp.Path);
        var path = temp.Combine("data_batch_3.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[7 * BinaryLayout.Cifar10.RecordBytes] = 10;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<DataException>(() => CifarBinary.ReadTrain(temp.Path, SyntheticCifar.Layout));
        Assert.Contains("data_batch_3.bin", error.Message);
        Assert.Contains("record 7 ", error.Message);
        Assert.Contains("label byte 10", error.Message);
        AssertOneLine(error);
    }

    [Fact]
    public void ValidationReadsEveryLabelByte()
    {
        SyntheticCifar.Write(temp.Path);
        var path = temp.Combine("test_batch.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[13 * BinaryLayout.Cifar10.RecordBytes] = 200;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<DataException>(() => CifarBinary.Validate(temp.Path, SyntheticCifar.Layout));
        Assert.Contains("test_batch.bin: record 13 has label byte 200", error.Message);
    }

    [Fact]
    public void WrongSizeNamesFileFoundAndExpectedBytes()
    {
        SyntheticCifar.Write(temp.Path);
        File.AppendAllText(temp.Combine("test_batch.bin"), "x");

        var error = Assert.Throws<DataException>(() => CifarBinary.Validate(temp.Path, SyntheticCifar.Layout));
        Assert.Contains("test_batch.bin", error.Message);
        Assert.Contains("61,461 bytes", error.Message);
        Assert.Contains("expected 61,460", error.Message);
        Assert.Throws<DataException>(() => CifarBinary.ReadTest(temp.Path, SyntheticCifar.Layout));
        AssertOneLine(error);
    }

    [Fact]
    public void RealLayoutRequiresTenThousandRecordsPerFile()
    {
        // The public API checks the official size; a 20-record file is rejected without reading it.
        SyntheticCifar.Write(temp.Path);
        var error = Assert.Throws<DataException>(() => CifarBinary.ReadTrain(temp.Path, BinaryLayout.Cifar10));
        Assert.Contains("data_batch_1.bin is 61,460 bytes, expected 30,730,000 (10,000 records of 3,073 bytes)", error.Message);
    }

    [Fact]
    public void MissingFilesAreAllListed()
    {
        SyntheticCifar.Write(temp.Path);
        File.Delete(temp.Combine("data_batch_4.bin"));
        File.Delete(temp.Combine("test_batch.bin"));

        var error = Assert.Throws<DataException>(() => CifarBinary.Validate(temp.Path, SyntheticCifar.Layout));
        Assert.Contains(temp.Path, error.Message);
        Assert.Contains("missing data_batch_4.bin, test_batch.bin", error.Message);
    }

    [Theory]
    [InlineData("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\n", "holds 9 class names, expected 10")]
    [InlineData("airplane\nautomobile\n\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n", "line 3 is empty")]
    [InlineData("", "holds 0 class names")]
    [InlineData("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ncat\n", "names the class 'cat' more than once")]
    public void BadClassNameFileIsRejected(string meta, string expected)
    {
        SyntheticCifar.Write(temp.Path);
        File.WriteAllText(temp.Combine("batches.meta.txt"), meta);
        var error = Assert.Throws<DataException>(() => CifarBinary.ReadClassNames(temp.Path, SyntheticCifar.Layout));
        Assert.Contains("batches.meta.txt", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ClassNamesIgnoreWindowsLineEndingsAndTrailingBlankLines()
    {
        SyntheticCifar.Write(temp.Path);
        File.WriteAllText(temp.Combine("batches.meta.txt"), string.Join("\r\n", SyntheticCifar.ClassNames) + "\r\n\r\n");
        Assert.Equal(SyntheticCifar.ClassNames, CifarBinary.ReadClassNames(temp.Path, SyntheticCifar.Layout));
    }

    [Fact]
    public void FingerprintHashesEveryFileAndChangesWithContent()
    {
        SyntheticCifar.Write(temp.Path);
        var before = CifarBinary.Validate(temp.Path, SyntheticCifar.Layout);
        Assert.Equal(BinaryLayout.Cifar10.AllFiles.Order(), before.FileSha256.Keys.Order());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(temp.Combine("test_batch.bin")))),
            before.FileSha256["test_batch.bin"]);
        Assert.Matches("^[0-9a-f]{64}$", before.CombinedSha256);

        var bytes = File.ReadAllBytes(temp.Combine("data_batch_2.bin"));
        bytes[100] ^= 1;
        File.WriteAllBytes(temp.Combine("data_batch_2.bin"), bytes);
        var after = CifarBinary.Validate(temp.Path, SyntheticCifar.Layout);
        Assert.NotEqual(before.CombinedSha256, after.CombinedSha256);
        Assert.Equal(before.FileSha256["test_batch.bin"], after.FileSha256["test_batch.bin"]);
    }

    internal static void AssertOneLine(Exception error)
    {
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
    }
}
