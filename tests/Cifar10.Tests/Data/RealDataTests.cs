using Cifar10.Data;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Cifar10.Tests.Data;

public class RealDataTests(RealDataFixture data, ITestOutputHelper output) : IClassFixture<RealDataFixture>
{
    [Fact]
    public void RealArchiveResolvesAndReadsWithOfficialCountsAndChecksums()
    {
        output.WriteLine($"extract {data.ExtractTime.TotalSeconds:F2}s, read train {data.ReadTrainTime.TotalSeconds:F2}s, read test {data.ReadTestTime.TotalSeconds:F2}s");

        Assert.Equal(50_000, data.Train.Count);
        Assert.Equal(10_000, data.Test.Count);
        Assert.Equal(new long[] { 50_000, 3, 32, 32 }, data.Train.Images.shape);
        Assert.Equal(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"], data.Test.ClassNames);

        using var testPerClass = torch.bincount(data.Test.Labels, minlength: 10);
        Assert.Equal(Enumerable.Repeat(1_000L, 10), testPerClass.data<long>().ToArray());
        using var trainPerClass = torch.bincount(data.Train.Labels, minlength: 10);
        Assert.Equal(Enumerable.Repeat(5_000L, 10), trainPerClass.data<long>().ToArray());

        // The extracted files are byte for byte the ones listed in shared/data/README.md.
        var fingerprint = CifarBinary.Validate(RealData.Folder, BinaryLayout.Cifar10);
        Assert.Equal("aff488523dfe8480b77630c47eeef75410c1b6fba02eabe49f72aa587794749f", fingerprint.FileSha256["data_batch_1.bin"]);
        Assert.Equal("8fc8274559583d206d71defce9154f3876d4e2cefabb241205625807abc8d7db", fingerprint.FileSha256["test_batch.bin"]);
        Assert.Equal("558e74b5e208382e186da55784b4bac2cd52e558448e1b5800990fdb28ed8033", fingerprint.FileSha256["batches.meta.txt"]);
    }
}
