namespace Cifar10.Training;

/// <summary>
/// Derives every random stream of a run from its one seed. Each epoch gets fresh generators
/// seeded from (seed, epoch), so a run resumed at an epoch boundary draws exactly the
/// shuffles, augmentations and dropout masks the uninterrupted run would have drawn,
/// without saving any generator state.
/// </summary>
internal static class Seeds
{
    public static long ForEpoch(long seed, int epoch, int stream) =>
        Mix(Mix(Mix(seed) ^ epoch) ^ stream) & long.MaxValue;

    public const int Shuffle = 1;
    public const int Augment = 2;
    public const int Dropout = 3;

    /// <summary>SplitMix64 finaliser: nearby inputs give unrelated outputs.</summary>
    static long Mix(long x)
    {
        unchecked
        {
            ulong z = (ulong)x + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (long)(z ^ (z >> 31));
        }
    }
}
