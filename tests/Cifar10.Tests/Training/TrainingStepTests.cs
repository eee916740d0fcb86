using Cifar10.Models;
using Cifar10.Runtime;
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

    /// <summary>
    /// The handles TorchSharp makes in the backward (the gradients custom functions such as LeanMaxPool take and give)
    /// go with the backward: none of activation size is left in the caller's scope, where it would keep its memory
    /// through the update and, with micro-batches, through every later part.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void NoActivationSizedTensorOutlivesTheBackwardInTheCallersScope(int microBatch)
    {
        torch.manual_seed(0);
        using var model = new FastNet();
        model.train();
        using var optimizer = new TorchOptimizer(optim.SGD(model.parameters(), 0.01));
        using var images = randn(8, 3, 32, 32);
        using var labels = randint(0, 10, [8], dtype: int64);

        using var scope = NewDisposeScope();
        new TrainingStep(model, optimizer, labelSmoothing: 0, microBatch: microBatch).Run(images, labels, learningRate: 0.01);

        var largest = scope.DisposablesView.OfType<Tensor>().Where(t => !t.IsInvalid).Max(t => t.numel());
        Assert.True(largest <= 8 * 10, $"a tensor of {largest} elements is left in the caller's scope; the logits have 80");
    }

    /// <summary>Batch norm's running statistics move by as much in a micro-batched step as in a whole one, and the layer's
    /// momentum is its own again after the step.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(2)]
    public void RunningStatisticsMoveAsWithTheWholeBatch(int microBatch)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        var norm = nn.BatchNorm2d(3, momentum: 0.4);
        var model = nn.Sequential(norm, nn.Flatten(), nn.Linear(3 * 4 * 4, 10));
        var optimizer = new TorchOptimizer(optim.SGD(model.parameters(), 0.01));
        // Eight copies of one image: every part has the whole batch's mean.
        var image = randn(1, 3, 4, 4, generator: new Generator(1));
        var images = image.expand(8, 3, 4, 4).contiguous();
        var labels = randint(0, 10, [8], generator: new Generator(2), dtype: int64);

        new TrainingStep(model, optimizer, labelSmoothing: 0, microBatch: microBatch).Run(images, labels, learningRate: 0.01);

        var expected = image.mean([0, 2, 3]) * 0.4; // from running mean 0, one whole-batch update
        Assert.True(norm.running_mean!.allclose(expected, rtol: 1e-5, atol: 1e-6), $"running mean {norm.running_mean.str()} against {expected.str()}");
        Assert.Equal(0.4, norm.momentum);
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

    /// <summary>A native Scalar that a step leaves to its finalizer, as TorchSharp's optimizers leave theirs, is found dead
    /// by the end of the step, not whenever the garbage collector next runs (ProcessMemory.CollectStepGarbage).</summary>
    [Fact]
    public void AStepLeavesNoScalarForALaterCollection()
    {
        torch.manual_seed(0);
        using var model = new ScalarLeavingNetwork();
        model.train();
        using var optimizer = new TorchOptimizer(optim.SGD(model.parameters(), 0.01));
        using var images = randn(4, 3, 32, 32);
        using var labels = randint(0, 10, [4], dtype: int64);
        var step = new TrainingStep(model, optimizer, labelSmoothing: 0);

        Thread.Sleep(ProcessMemory.StepGarbageInterval); // a collection ran long enough ago that this step makes its own
        using (NewDisposeScope()) step.Run(images, labels, learningRate: 0.01);

        Assert.NotNull(model.LeftScalar);
        Assert.False(model.LeftScalar.IsAlive, "the Scalar the forward pass left undisposed is still waiting for a collection");
    }

    /// <summary>A linear classifier whose forward pass scales its input by a Scalar it does not dispose.</summary>
    sealed class ScalarLeavingNetwork : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Linear head = nn.Linear(3 * 32 * 32, 10);

        public ScalarLeavingNetwork() : base(nameof(ScalarLeavingNetwork)) => RegisterComponents();

        public WeakReference? LeftScalar { get; private set; }

        public override Tensor forward(Tensor input)
        {
            var half = 0.5.ToScalar();
            LeftScalar = new WeakReference(half);
            return head.call(input.flatten(1).mul(half));
        }
    }
}
