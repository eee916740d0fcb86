namespace Cifar10.Data;

/// <summary>
/// How a set of examples is cut into mini-batches: consecutive ranges of <c>batchSize</c>, the
/// last one shorter. Training (over a shuffled order) and evaluation (in order) both use it, so
/// they agree on how many steps an epoch has.
/// </summary>
internal static class Batches
{
    /// <summary>
    /// The (start, length) ranges over <paramref name="count"/> examples. For training,
    /// <paramref name="dropLoneLast"/> leaves out a final batch of a single example: batch norm
    /// cannot train on one.
    /// </summary>
    public static IEnumerable<(int Start, int Length)> Ranges(int count, int batchSize, bool dropLoneLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int batches = Count(count, batchSize, dropLoneLast);
        for (int b = 0; b < batches; b++)
        {
            int start = b * batchSize;
            yield return (start, Math.Min(batchSize, count - start));
        }
    }

    /// <summary>How many ranges <see cref="Ranges"/> gives.</summary>
    public static int Count(int count, int batchSize, bool dropLoneLast = false)
    {
        int full = count / batchSize;
        int remainder = count % batchSize;
        bool keepLast = remainder >= 2 || (remainder == 1 && (!dropLoneLast || full == 0));
        return full + (keepLast ? 1 : 0);
    }
}
