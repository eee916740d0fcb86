using Cifar10.Data;
using Xunit;

namespace Cifar10.Tests.Data;

public class SplitTests
{
    [Fact]
    public void SplitIsDisjointCompleteAndSized()
    {
        using var all = InMemoryData.Indexed(100);
        var (train, validation) = Split.TrainValidation(all, 30, seed: 7);
        using (train) using (validation)
        {
            Assert.Equal(70, train.Count);
            Assert.Equal(30, validation.Count);
            var trainIds = InMemoryData.Ids(train);
            var validationIds = InMemoryData.Ids(validation);
            Assert.Empty(trainIds.Intersect(validationIds));
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), trainIds.Concat(validationIds).Order());
            // Images travel with their labels.
            Assert.Equal(validationIds[3] % 256, validation.Images[3, 2, 31, 0].item<byte>());
            // Not simply the last (or first) 30 examples.
            Assert.NotEqual(Enumerable.Range(70, 30).Select(i => (long)i), validationIds);
        }
    }

    [Fact]
    public void SameSeedSameSplitOtherSeedOtherSplit()
    {
        using var all = InMemoryData.Indexed(100);
        long[] ValidationIds(long seed)
        {
            var (train, validation) = Split.TrainValidation(all, 10, seed);
            using (train) using (validation) return InMemoryData.Ids(validation);
        }
        Assert.Equal(ValidationIds(1), ValidationIds(1));
        Assert.NotEqual(ValidationIds(1), ValidationIds(2));
    }

    [Fact]
    public void ZeroValidationGivesEmptyValidationSet()
    {
        using var all = InMemoryData.Indexed(10);
        var (train, validation) = Split.TrainValidation(all, 0, seed: 1);
        using (train) using (validation)
        {
            Assert.Equal(10, train.Count);
            Assert.Equal(0, validation.Count);
            Assert.Equal(new long[] { 0, 3, 32, 32 }, validation.Images.shape);
        }
    }

    [Fact]
    public void AValidationSetThatLeavesNothingToTrainOnIsRefused()
    {
        using var all = InMemoryData.Indexed(10);
        var e = Assert.Throws<ConfigException>(() => Split.TrainValidation(all, 10, seed: 1));
        Assert.Contains("between 0 and 9", e.Message);
    }

    [Fact]
    public void WithoutAValidationSetTheTrainingPartSharesTheImages()
    {
        using var all = InMemoryData.Indexed(10);
        var (train, validation) = Split.TrainValidation(all, 0, seed: 1);
        using (train) using (validation)
        {
            Assert.Equal(0, validation.Count);
            Assert.Equal(all.Images.storage<byte>().data_ptr(), train.Images.storage<byte>().data_ptr()); // held once, not copied
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(11)]
    public void ImpossibleSizesAreRejected(int size)
    {
        using var all = InMemoryData.Indexed(10);
        Assert.Throws<ConfigException>(() => Split.TrainValidation(all, size, seed: 1));
    }
}
