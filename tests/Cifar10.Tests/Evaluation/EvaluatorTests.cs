using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Evaluation;

public class EvaluatorTests
{
    /// <summary>Counts the tensors alive each time the network is called.</summary>
    sealed class Counting(nn.Module<Tensor, Tensor> inner) : nn.Module<Tensor, Tensor>("Counting")
    {
        public readonly List<long> LiveAtCall = [];
        public readonly List<long> BatchSizes = [];

        public override Tensor forward(Tensor input)
        {
            LiveAtCall.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            BatchSizes.Add(input.shape[0]);
            return inner.forward(input);
        }
    }

    /// <summary>The same untrained network in eval mode every time (seed 0); the generator stays seeded for the test's data.</summary>
    static SimpleNet SeededNetwork()
    {
        torch.manual_seed(0);
        var network = new SimpleNet();
        network.eval();
        return network;
    }

    [Fact]
    public void TestTimeViewsRunOneAfterAnotherSoMemoryStaysAtOnePass()
    {
        using var network = SeededNetwork();
        using var model = new Counting(network);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = randn(8, 3, 32, 32);

        var probabilities = Evaluator.Probabilities(model, batch, TestTimeAugmentation.MirrorTranslate);

        // Each view's activations are freed before the next view runs: the count of live tensors is the
        // same at every call (the running sum aside), instead of growing by a whole forward pass per view.
        Assert.Equal(6, model.LiveAtCall.Count);
        Assert.InRange(model.LiveAtCall.Max() - model.LiveAtCall.Min(), 0, 1);

        // And the result is the weighted mean of the views' probabilities.
        var expected = Evaluator.Views(batch, TestTimeAugmentation.MirrorTranslate)
            .Select(v => network.forward(v.View).softmax(1) * v.Weight)
            .Aggregate((a, b) => a + b);
        Assert.True(probabilities.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void OnlyImagesBelowTheConfidenceThresholdGetEveryView()
    {
        using var network = SeededNetwork();
        using var model = new Counting(network);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = randn(16, 3, 32, 32);
        var plain = network.forward(batch).softmax(1);
        var all = Evaluator.Probabilities(network, batch, TestTimeAugmentation.MirrorTranslate);
        var confidence = plain.max(1).values;
        double threshold = confidence.median().item<float>(); // about half the images below it
        var uncertain = confidence.lt(threshold);
        long below = uncertain.sum().item<long>();
        Assert.InRange(below, 1, 15);

        var probabilities = Evaluator.Probabilities(model, batch, TestTimeAugmentation.MirrorTranslate, allViewsBelowConfidence: threshold);

        // One plain pass over the batch, then the five other views of the uncertain images only.
        Assert.Equal([16L, below, below, below, below, below], model.BatchSizes);
        Assert.True(probabilities[uncertain].allclose(all[uncertain], rtol: 1e-5, atol: 1e-6));
        Assert.True(probabilities[uncertain.logical_not()].eq(plain[uncertain.logical_not()]).all().item<bool>());
        // A threshold of 1 is every view for every image; one no image is below is the plain view.
        Assert.True(Evaluator.Probabilities(network, batch, TestTimeAugmentation.MirrorTranslate, 1).eq(all).all().item<bool>());
        Assert.True(Evaluator.Probabilities(network, batch, TestTimeAugmentation.MirrorTranslate, 1e-9).eq(plain).all().item<bool>());
    }

    [Fact]
    public void EvaluationStopsWhenCancelled()
    {
        using var model = new SimpleNet();
        using var data = TinyData.Make(64, seed: 1);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Evaluator.Evaluate(model, data, CPU, batchSize: 16, cancellation: cancelled.Token));
    }

    [Fact]
    public void ProgressGoesFromNoImageToEveryImageBatchByBatch()
    {
        torch.manual_seed(0);
        using var model = new SimpleNet();
        using var data = TinyData.Make(50, seed: 1);
        var progress = new ProgressRecorder();

        Evaluator.Evaluate(model, data, CPU, batchSize: 20, progress: progress, activity: "test set");

        Assert.Equal([0L, 20, 40, 50], progress.Reports.Select(r => r.Done));
        Assert.All(progress.Reports, r => Assert.Equal(("test set", 50L, "image"), (r.Activity, r.Total, r.Unit)));
        Assert.True(progress.Reports[0].IsStart && progress.Reports[^1].IsEnd);
    }

    [Fact]
    public void TheFiguresFollowFromTheProbabilitiesItKeeps()
    {
        torch.manual_seed(0);
        using var model = new SimpleNet();
        using var data = TinyData.Make(40, seed: 2);
        var result = Evaluator.Evaluate(model, data, CPU, batchSize: 16);

        // One row of class probabilities per image, each summing to 1; the prediction is the most probable class.
        Assert.Equal(40 * 10, result.Probabilities.Length);
        for (int i = 0; i < result.Count; i++)
        {
            var row = result.Probabilities.AsSpan(i * 10, 10).ToArray();
            Assert.Equal(1, row.Sum(), 4);
            Assert.Equal(Array.IndexOf(row, row.Max()), result.Predictions[i]);
            Assert.Equal(row.Max(), result.Confidences[i]);
        }
        var labels = data.Labels.data<long>().ToArray().Select(l => (int)l).ToArray();
        Assert.Equal(labels, result.TrueLabels);
        Assert.Equal(Enumerable.Range(0, 40).Count(i => result.Predictions[i] == labels[i]) / 40.0, result.Accuracy);
        double loss = Enumerable.Range(0, 40).Average(i => -Math.Log(result.Probabilities[i * 10 + labels[i]]));
        Assert.Equal(loss, result.Loss, 9);
    }

    [Fact]
    public void BatchSizeChangesNothingButMemory()
    {
        torch.manual_seed(0);
        using var model = new SimpleNet();
        using var data = TinyData.Make(50, seed: 1);
        var whole = Evaluator.Evaluate(model, data, CPU, batchSize: 50, TestTimeAugmentation.MirrorTranslate);
        var pieces = Evaluator.Evaluate(model, data, CPU, batchSize: 7, TestTimeAugmentation.MirrorTranslate);
        Assert.Equal(whole.Predictions, pieces.Predictions);
        Assert.Equal(whole.Loss, pieces.Loss, 5);
        Assert.Equal(8, Batches.Count(50, 7));
    }
}
