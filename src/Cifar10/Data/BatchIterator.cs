using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>One mini-batch: uint8 images [B,3,32,32] and int64 labels [B]. The batch owns both tensors.</summary>
public sealed class Batch(Tensor images, Tensor labels) : IDisposable
{
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public int Count => (int)Labels.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// Cuts a dataset into mini-batches for one epoch at a time, in order or shuffled with a seeded
/// generator (a new permutation each epoch, reproducible from the seed). Each batch is one
/// index_select on the in-memory tensors; dispose each batch (<c>using var batch</c>) when done.
/// </summary>
public sealed class BatchIterator
{
    readonly Cifar10Dataset dataset;
    readonly Generator? generator;

    public int BatchSize { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }

    /// <param name="generator">Required when <paramref name="shuffle"/> is true: shuffling never uses the global RNG.</param>
    public BatchIterator(Cifar10Dataset dataset, int batchSize, bool shuffle = false, bool dropLast = false, Generator? generator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (shuffle && generator is null)
            throw new ArgumentException("shuffling needs a seeded generator", nameof(generator));
        this.dataset = dataset;
        this.generator = generator;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
    }

    public int BatchCount => DropLast ? dataset.Count / BatchSize : (dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The batches of one epoch; with shuffling, each call draws a new permutation from the generator.</summary>
    public IEnumerable<Batch> Epoch()
    {
        // This body runs piecemeal inside the caller's foreach, under whatever dispose scope the
        // caller has open at that moment; so every tensor here is detached and owned explicitly.
        using var order = (Shuffle
            ? randperm(dataset.Count, device: generator!.device, generator: generator)
            : arange(dataset.Count, dtype: ScalarType.Int64)).DetachFromDisposeScope();
        using var orderOnDevice = order.to(dataset.Device, copy: true).DetachFromDisposeScope();
        for (int b = 0; b < BatchCount; b++)
        {
            int start = b * BatchSize;
            yield return MakeBatch(orderOnDevice, start, Math.Min(BatchSize, dataset.Count - start));
        }
    }

    Batch MakeBatch(Tensor order, int start, int size)
    {
        using var scope = NewDisposeScope();
        var indices = order.narrow(0, start, size);
        return new Batch(
            dataset.Images.index_select(0, indices).DetachFromDisposeScope(),
            dataset.Labels.index_select(0, indices).DetachFromDisposeScope());
    }
}
