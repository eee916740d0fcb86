using Cifar10.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Data;

public class DatasetTests
{
    [Fact]
    public void SubsetTakeAndToMakeIndependentDatasets()
    {
        var all = InMemoryData.Indexed(10);
        using var indices = tensor(new long[] { 7, 2, 2 });
        using var subset = all.Subset(indices);
        using var first = all.Take(4);
        using var copy = all.To(CPU);
        all.Dispose(); // the derived datasets must survive their parent

        Assert.Equal(new long[] { 7, 2, 2 }, InMemoryData.Ids(subset));
        Assert.Equal(7, subset.Images[0, 1, 5, 5].item<byte>());
        Assert.Equal(new long[] { 0, 1, 2, 3 }, InMemoryData.Ids(first));
        Assert.Equal(10, copy.Count);
        Assert.Equal(SyntheticCifar.ClassNames, copy.ClassNames);
    }

    [Fact]
    public void DatasetOwnsItsTensorsAcrossDisposeScopes()
    {
        ImageDataset dataset;
        using (NewDisposeScope())
            dataset = InMemoryData.Indexed(3);
        using (dataset)
            Assert.Equal(3, dataset.Images.shape[0]); // would throw if the scope had disposed the images
    }

    [Fact]
    public void WrongShapesAreRejected()
    {
        using var floats = zeros(2, 3, 32, 32);
        using var labels = zeros(2, dtype: ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => new ImageDataset(floats, labels, SyntheticCifar.ClassNames));
        using var images = zeros(2, 3, 32, 32, dtype: ScalarType.Byte);
        using var tooManyLabels = zeros(3, dtype: ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => new ImageDataset(images, tooManyLabels, SyntheticCifar.ClassNames));
        using var data = InMemoryData.Indexed(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Take(4));
    }
}
