using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

public static class Split
{
    /// <summary>
    /// Seeded random split of <paramref name="train"/> into a training part and a validation part
    /// of <paramref name="validationSize"/> examples (0 gives an empty validation set). The same
    /// seed always gives the same split; both parts keep the original order of the examples.
    /// </summary>
    public static (Cifar10Dataset Train, Cifar10Dataset Validation) TrainValidation(
        Cifar10Dataset train, int validationSize, long seed)
    {
        if (validationSize < 0 || validationSize > train.Count)
            throw new ArgumentOutOfRangeException(nameof(validationSize), validationSize, $"must be between 0 and {train.Count}");

        using var scope = NewDisposeScope();
        // A private generator: the split must not depend on (or disturb) the global RNG.
        using var generator = new Generator().manual_seed(seed);
        var order = randperm(train.Count, generator: generator);
        var validationIndices = order.narrow(0, 0, validationSize).sort().Values;
        var trainIndices = order.narrow(0, validationSize, train.Count - validationSize).sort().Values;
        return (train.Subset(trainIndices), train.Subset(validationIndices));
    }
}
