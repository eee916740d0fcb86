using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>Splits a training set into the images a network trains on and those held out to validate it.</summary>
public static class Split
{
    /// <summary>
    /// Seeded random split of <paramref name="train"/> into a training part and a validation part
    /// of <paramref name="validationSize"/> examples (0 gives an empty validation set). The same
    /// seed always gives the same split; both parts keep the original order of the examples. The parts
    /// are copies, so the caller can dispose <paramref name="train"/> and hold the images once; without a
    /// validation set the training part shares <paramref name="train"/>'s storage instead.
    /// </summary>
    public static (ImageDataset Train, ImageDataset Validation) TrainValidation(
        ImageDataset train, int validationSize, long seed)
    {
        if (validationSize < 0 || validationSize >= train.Count)
            throw new ConfigException($"the validation size must be between 0 and {train.Count - 1:N0}, leaving images to train on (got {validationSize:N0} of {train.Count:N0} training images)");

        using var scope = NewDisposeScope();
        if (validationSize == 0)
            return (train.To(train.Device), train.Subset(zeros(0, dtype: ScalarType.Int64)));
        // A private generator: the split must not depend on (or disturb) the global RNG.
        using var generator = new Generator().manual_seed(seed);
        var order = randperm(train.Count, generator: generator);
        var validationIndices = order.narrow(0, 0, validationSize).sort().Values;
        var trainIndices = order.narrow(0, validationSize, train.Count - validationSize).sort().Values;
        return (train.Subset(trainIndices), train.Subset(validationIndices));
    }
}
