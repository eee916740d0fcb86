using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

/// <summary>One optimizer update, with the batch in one pass or split into micro-batches.</summary>
[Collection(GlobalTorchState.Name)]
public class TrainingStepTests
{
    [Theory]
    [InlineData(2000, 0, new long[] { 2000 })]
    [InlineData(2000, 2000, new long[] { 2000 })]
    [InlineData(2000, 1000, new long[] { 1000, 1000 })]
    [InlineData(2001, 1000, new long[] { 667, 667, 667 })]
    [InlineData(1000, 2000, new long[] { 1000 })]
    [InlineData(10, 3, new long[] { 3, 3, 2, 2 })]
    [InlineData(3, 1, new long[] { 3 })] // never a part of one image: batch norm cannot train on it
    [InlineData(5, 1, new long[] { 3, 2 })]
    public void ABatchIsSplitIntoAsFewEqualPartsAsFitTheMicroBatch(long count, int microBatch, long[] lengths)
    {
        var parts = TrainingStep.Parts(count, microBatch);
        Assert.Equal(lengths, parts.Select(p => p.Length));
        Assert.Equal(0, parts[0].Start);
        Assert.All(parts.Zip(parts.Skip(1)), pair => Assert.Equal(pair.First.Start + pair.First.Length, pair.Second.Start));
    }

    /// <summary>Without batch norm the parts' summed gradients are the whole batch's: the same update, loss and logits.</summary>
    [Fact]
    public void MicroBatchesGiveTheWholeBatchesUpdate()
    {
        using var scope = NewDisposeScope();
        var images = randn(12, 3, 32, 32, generator: new Generator(1));
        var labels = randint(0, 10, [12], generator: new Generator(2), dtype: int64);

        (Tensor Loss, Tensor Logits, Tensor[] Weights) Step(int microBatch)
        {
            torch.manual_seed(3);
            var model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 30 * 30, 10));
            var optimizer = new TorchOptimizer(optim.SGD(model.parameters(), 0.1, momentum: 0.9));
            var (loss, logits) = new TrainingStep(model, optimizer, labelSmoothing: 0.1, microBatch: microBatch).Run(images, labels, learningRate: 0.1);
            return (loss.detach(), logits.detach(), model.parameters().Select(p => p.detach().clone()).ToArray());
        }

        var whole = Step(0);
        var split = Step(5); // parts of 4 images
        Assert.True(whole.Loss.allclose(split.Loss, rtol: 1e-5, atol: 1e-6));
        Assert.True(whole.Logits.allclose(split.Logits, rtol: 1e-5, atol: 1e-6));
        Assert.All(whole.Weights.Zip(split.Weights), w => Assert.True(w.First.allclose(w.Second, rtol: 1e-4, atol: 1e-6)));
    }
}
