using Cifar10.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Data;

public class BatchIteratorTests
{
    static List<long[]> Epoch(BatchIterator iterator)
    {
        var batches = new List<long[]>();
        foreach (var batch in iterator.Epoch())
            using (batch)
            {
                Assert.Equal(batch.Count, batch.Images.shape[0]);
                Assert.Equal(ScalarType.Byte, batch.Images.dtype);
                // Images stay paired with their labels (pixel value = id % 256).
                var pixels = batch.Images[TensorIndex.Colon, 0, 0, 0].to_type(ScalarType.Int64).data<long>().ToArray();
                var ids = batch.Labels.data<long>().ToArray();
                Assert.Equal(ids.Select(id => id % 256), pixels);
                batches.Add(ids);
            }
        return batches;
    }

    [Fact]
    public void SequentialBatchesCoverTheDatasetInOrder()
    {
        using var data = InMemoryData.Indexed(10);
        var iterator = new BatchIterator(data, batchSize: 4);
        var batches = Epoch(iterator);
        Assert.Equal(3, iterator.BatchCount);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], batches);
    }

    [Fact]
    public void DropLastSkipsTheShortBatch()
    {
        using var data = InMemoryData.Indexed(10);
        var iterator = new BatchIterator(data, batchSize: 4, dropLast: true);
        Assert.Equal(2, iterator.BatchCount);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7]], Epoch(iterator));
    }

    [Fact]
    public void ShuffledEpochsArePermutationsReproducibleFromTheSeed()
    {
        using var data = InMemoryData.Indexed(300);
        List<long[]> TwoEpochs(ulong seed)
        {
            using var generator = new Generator(seed);
            var iterator = new BatchIterator(data, batchSize: 64, shuffle: true, generator: generator);
            return [.. Epoch(iterator), .. Epoch(iterator)];
        }
        var run = TwoEpochs(5);
        var first = run.Take(5).SelectMany(b => b).ToArray();
        var second = run.Skip(5).SelectMany(b => b).ToArray();
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), first.Order());
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), second.Order());
        Assert.NotEqual(Enumerable.Range(0, 300).Select(i => (long)i), first);
        Assert.NotEqual(first, second); // a new permutation every epoch
        Assert.Equal(run, TwoEpochs(5));
        Assert.NotEqual(run, TwoEpochs(6));
    }

    [Fact]
    public void BatchOutlivesTheCallersDisposeScope()
    {
        using var data = InMemoryData.Indexed(10);
        Batch batch;
        using (NewDisposeScope())
            batch = new BatchIterator(data, batchSize: 4).Epoch().First();
        using (batch)
            Assert.Equal(new long[] { 0, 1, 2, 3 }, batch.Labels.data<long>().ToArray());
    }

    [Fact]
    public void ShufflingWithoutGeneratorIsRefused()
    {
        using var data = InMemoryData.Indexed(3);
        Assert.Throws<ArgumentException>(() => new BatchIterator(data, 2, shuffle: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchIterator(data, 0));
    }
}
