using Cifar10.Data;
using Xunit;

namespace Cifar10.Tests.Data;

/// <summary>CIFAR-100's binary files, written in their format: records of 3,074 bytes, coarse label then fine label.</summary>
static class SyntheticCifar100
{
    public static readonly string[] Coarse = Enumerable.Range(0, 20).Select(i => $"superclass{i:00}").ToArray();
    public static readonly string[] Fine = Enumerable.Range(0, 100).Select(i => $"class{i:000}").ToArray();

    /// <summary>Writes cifar-100-binary/ with the given record counts; fine label i belongs to coarse label i / 5.</summary>
    public static string Write(string parent, int train, int test, int seed = 0)
    {
        var folder = Path.Combine(parent, BinaryLayout.Cifar100Fine.FolderName);
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        foreach (var (name, count) in new[] { ("train.bin", train), ("test.bin", test) })
        {
            var bytes = new byte[count * 3074];
            for (int r = 0; r < count; r++)
            {
                int fine = random.Next(100);
                bytes[r * 3074] = (byte)(fine / 5);
                bytes[r * 3074 + 1] = (byte)fine;
                // The fine class shows as the image's brightness, so a network can learn something.
                Array.Fill(bytes, (byte)(fine * 2 + random.Next(20)), r * 3074 + 2, 3072);
            }
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
        File.WriteAllLines(Path.Combine(folder, "coarse_label_names.txt"), Coarse);
        File.WriteAllLines(Path.Combine(folder, "fine_label_names.txt"), Fine);
        return folder;
    }
}

public class Cifar100Tests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    static readonly BinaryLayout Small = BinaryLayout.Cifar100Fine.WithRecords(40, 10);

    [Fact]
    public void FineAndCoarseLabelsAreReadFromTheirOwnByte()
    {
        var folder = SyntheticCifar100.Write(temp.Path, 40, 10);
        using var fine = CifarBinary.ReadTrain(folder, Small);
        using var coarse = CifarBinary.ReadTrain(folder, Small with { LabelIndex = 0 });
        Assert.Equal(100, fine.ClassNames.Count);
        Assert.Equal(20, coarse.ClassNames.Count);
        Assert.Equal(fine.Labels.data<long>().ToArray().Select(l => l / 5), coarse.Labels.data<long>().ToArray());
        Assert.Equal("class000", fine.ClassNames[0]);
        var bytes = File.ReadAllBytes(Path.Combine(folder, "train.bin"));
        Assert.Equal(bytes[2], fine.Images[0, 0, 0, 0].item<byte>()); // the pixels start after both label bytes
    }

    [Fact]
    public void ValidationChecksBothLabelBytesAndBothNameFiles()
    {
        var folder = SyntheticCifar100.Write(temp.Path, 40, 10);
        var fingerprint = CifarBinary.Validate(folder, Small);
        Assert.Equal(["coarse_label_names.txt", "fine_label_names.txt", "test.bin", "train.bin"], fingerprint.FileSha256.Keys);
        var bytes = File.ReadAllBytes(Path.Combine(folder, "test.bin"));
        bytes[3 * 3074] = 20; // a coarse label out of range
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), bytes);
        Assert.Contains("record 3 has label byte 20, expected 0-19", Assert.Throws<DataException>(() => CifarBinary.Validate(folder, Small)).Message);
    }

    [Fact]
    public void AnArchiveIsExtractedAndValidatedLikeCifar10s()
    {
        var source = SyntheticCifar100.Write(temp.Combine("source"), 40, 10);
        var archive = temp.Combine(BinaryLayout.Cifar100Fine.ArchiveFileName);
        using (var file = File.Create(archive))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gzip))
            foreach (var path in Directory.GetFiles(source))
                tar.WriteEntry(path, $"{BinaryLayout.Cifar100Fine.FolderName}/{Path.GetFileName(path)}");
        var located = DataLocator.Resolve(archive, Small, new DownloadOptions { CacheDir = temp.Combine("cache"), AllowDownload = false });
        Assert.EndsWith(BinaryLayout.Cifar100Fine.FolderName, located.Folder);
        Assert.Equal(4, located.Fingerprint.FileSha256.Count);
    }

    [Fact]
    public void LabelsAndTestSizeBelongToTheDataSetsTheyMeanSomethingFor()
    {
        var request = new DataRequest { Data = temp.Path, Download = new DownloadOptions { CacheDir = temp.Combine("cache"), AllowDownload = false } };
        Assert.Contains("--labels coarse is for CIFAR-100", Assert.Throws<ConfigException>(() => DataSource.Open(request with { Dataset = DatasetKind.Cifar10, Labels = LabelKind.Coarse })).Message);
        Assert.Contains("--test-size", Assert.Throws<ConfigException>(() => DataSource.Open(request with { Dataset = DatasetKind.Cifar100, TestSize = 5 })).Message);
    }
}
