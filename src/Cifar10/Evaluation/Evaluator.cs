using Cifar10.Data;
using Cifar10.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Evaluation;

/// <summary>Everything one pass over a labelled set tells: loss, accuracy, the confusion matrix,
/// each image's prediction (for the reports' sample grids) and the class probabilities it came from.</summary>
/// <param name="Loss">The mean cross-entropy (negative log-probability of the true class) over the images.</param>
/// <param name="Accuracy">The share of images whose most probable class is the true one, 0 to 1.</param>
/// <param name="Confusion">Counts [true class, predicted class].</param>
/// <param name="TrueLabels">Each image's true class, in the set's order.</param>
/// <param name="Predictions">Each image's predicted (most probable) class.</param>
/// <param name="Confidences">Each image's probability of its predicted class.</param>
/// <param name="ClassNames">The class names, in label order.</param>
/// <param name="Probabilities">Every image's class probabilities, one row of <c>ClassNames.Count</c> per image.</param>
public sealed record EvaluationResult(
    double Loss,
    double Accuracy,
    int[,] Confusion,
    int[] TrueLabels,
    int[] Predictions,
    float[] Confidences,
    IReadOnlyList<string> ClassNames,
    float[] Probabilities)
{
    /// <summary>The probability below which a true class counts as this certain a miss in the loss (log 0 is infinite).</summary>
    const double SmallestProbability = 1e-12;

    /// <summary>The number of images evaluated.</summary>
    public int Count => Predictions.Length;

    /// <summary>Each true class's correct and total counts and accuracy (NaN for a class with no images).</summary>
    public IReadOnlyList<ClassAccuracy> PerClass() => ConfusionSummary.PerClass(Confusion, ClassNames);

    /// <summary>
    /// The figures of a set from its class probabilities (<paramref name="probabilities"/>: one row of
    /// <c>ClassNames.Count</c> per image) and true labels: the prediction is the most probable class (the
    /// first of equals), the loss the mean negative log-probability of the true class. The evaluation and a
    /// run's stored test predictions both go through here, so a report drawn from the file shows the figures
    /// the evaluation measured.
    /// </summary>
    public static EvaluationResult FromProbabilities(float[] probabilities, int[] labels, IReadOnlyList<string> classNames)
    {
        int classes = classNames.Count, count = labels.Length;
        if (probabilities.Length != (long)count * classes)
            throw new ArgumentException($"{probabilities.Length} probabilities are not {count} images of {classes} classes", nameof(probabilities));
        var confusion = new int[classes, classes];
        var predictions = new int[count];
        var confidences = new float[count];
        double lossSum = 0;
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            var row = probabilities.AsSpan(i * classes, classes);
            int guess = 0;
            for (int c = 1; c < classes; c++)
                if (row[c] > row[guess]) guess = c;
            int label = labels[i];
            if (label < 0 || label >= classes) throw new ArgumentException($"label {label} of image {i} is not one of {classes} classes", nameof(labels));
            predictions[i] = guess;
            confidences[i] = row[guess];
            confusion[label, guess]++;
            if (label == guess) correct++;
            lossSum -= Math.Log(Math.Max(row[label], SmallestProbability));
        }
        return new EvaluationResult(count == 0 ? double.NaN : lossSum / count, count == 0 ? double.NaN : correct / (double)count,
                                    confusion, labels, predictions, confidences, classNames, probabilities);
    }
}

/// <summary>Which views of each image are averaged at test time.</summary>
public enum TestTimeAugmentation
{
    /// <summary>The image alone.</summary>
    None,
    /// <summary>The image and its mirror, equally weighted.</summary>
    Mirror,
    /// <summary>airbench94's level 2: half the weight on the mirror pair of the image itself, a quarter
    /// on the mirror pair of the image shifted one pixel up-left, a quarter on it shifted down-right
    /// (borders reflected). Six forward passes per image.</summary>
    MirrorTranslate,
}

/// <summary>
/// Measures a network on a labelled set: loss, accuracy, per-class accuracy and the confusion matrix, optionally
/// with test-time augmentation. Validation, the test evaluation of a run, <c>eval</c> and the reports all measure here.
/// </summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates in eval mode without gradients, <paramref name="batchSize"/> images per forward pass.
    /// With test-time augmentation each image's class probabilities are the weighted mean over its
    /// views (the loss is that mean's NLL); the views run one after another, so memory peaks at one
    /// plain forward pass whatever the number of views. Stops between batches when cancelled.
    /// </summary>
    /// <param name="normalization">The statistics the network was trained with (its checkpoint's); CIFAR-10's when not given.</param>
    /// <param name="allViewsBelowConfidence">Only images whose plain view's top probability is below this get
    /// every view of <paramref name="tta"/> (see <see cref="Probabilities"/>); 1 gives every image every view.</param>
    /// <param name="progress">Told the images done (as <paramref name="activity"/>): 0 at the start, then after every batch.</param>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data, Device device,
                                            int batchSize = 500, TestTimeAugmentation tta = TestTimeAugmentation.None,
                                            CancellationToken cancellation = default, Normalization? normalization = null,
                                            double allViewsBelowConfidence = 1,
                                            IProgress<WorkProgress>? progress = null, string activity = "evaluation")
    {
        normalization ??= Normalization.Cifar10;
        int classes = data.ClassNames.Count;
        var probabilities = new float[(long)data.Count * classes];
        var labels = new int[data.Count];
        progress?.Report(new WorkProgress(activity, 0, data.Count, "image"));

        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            foreach (var (start, length) in Batches.Ranges(data.Count, batchSize))
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var images = data.Images.narrow(0, start, length).to(device);
                var batch = Probabilities(model, normalization.Normalize(images), tta, allViewsBelowConfidence);
                batch.@float().cpu().contiguous().data<float>().CopyTo(probabilities.AsSpan(start * classes, length * classes));
                var labelsCpu = data.Labels.narrow(0, start, length).cpu().data<long>().ToArray();
                for (int i = 0; i < length; i++) labels[start + i] = (int)labelsCpu[i];
                progress?.Report(new WorkProgress(activity, start + length, data.Count, "image"));
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return EvaluationResult.FromProbabilities(probabilities, labels, data.ClassNames);
    }

    /// <summary>
    /// Softmax probabilities of a normalised batch: the weighted mean over its test-time views. With
    /// <paramref name="allViewsBelowConfidence"/> under 1 the plain view runs first, and only the images
    /// whose top probability in it is below that threshold get the other views (their mean is the full
    /// one); the confident rest keep the plain prediction. Most of a trained network's test images are
    /// confident, so this costs a fraction of the views for nearly all of their gain.
    /// </summary>
    public static Tensor Probabilities(nn.Module<Tensor, Tensor> model, Tensor normalized, TestTimeAugmentation tta,
                                       double allViewsBelowConfidence = 1)
    {
        // (The other views of the whole batch are built only when every image gets them.)
        if (tta == TestTimeAugmentation.None || allViewsBelowConfidence >= 1) return WeightedMean(model, Views(normalized, tta));

        using var scope = torch.NewDisposeScope();
        var plain = WeightedMean(model, [(normalized, 1.0)]);
        var uncertain = plain.max(1).values.lt(allViewsBelowConfidence).nonzero().squeeze(1);
        if (uncertain.numel() > 0)
        {
            // The identity view comes first (see Views): its probabilities are reused, the others run on the uncertain images only.
            var subset = normalized.index_select(0, uncertain);
            var subsetViews = Views(subset, tta);
            var start = plain.index_select(0, uncertain).mul_(subsetViews[0].Weight);
            plain.index_copy_(0, uncertain, WeightedMean(model, subsetViews.Skip(1), start));
        }
        return plain.MoveToOuterDisposeScope();
    }

    /// <summary><paramref name="start"/> (consumed) plus the weighted softmax of each view, one view's
    /// activations at a time: six views at once held six forward passes' worth of activations (9 GB at batch
    /// 1,000 for the fast network).</summary>
    static Tensor WeightedMean(nn.Module<Tensor, Tensor> model, IEnumerable<(Tensor View, double Weight)> views, Tensor? start = null)
    {
        Tensor? sum = start;
        using var precision = Training.Precision.ForwardScope(model);
        foreach (var (view, weight) in views)
        {
            using var scope = torch.NewDisposeScope();
            var weighted = model.forward(view).@float().softmax(1).mul_(weight);
            if (sum is not null)
            {
                weighted.add_(sum);
                sum.Dispose();
            }
            sum = weighted.MoveToOuterDisposeScope();
        }
        return sum!;
    }

    /// <summary>The views of a batch that <paramref name="tta"/> averages, with their weights (summing to 1);
    /// the batch itself first.</summary>
    public static IReadOnlyList<(Tensor View, double Weight)> Views(Tensor batch, TestTimeAugmentation tta)
    {
        switch (tta)
        {
            case TestTimeAugmentation.None:
                return [(batch, 1.0)];
            case TestTimeAugmentation.Mirror:
                return [(batch, 0.5), (batch.flip(3), 0.5)];
            case TestTimeAugmentation.MirrorTranslate:
                long height = batch.shape[2], width = batch.shape[3];
                var padded = nn.functional.pad(batch, [1, 1, 1, 1], PaddingModes.Reflect);
                var downRight = padded.narrow(2, 0, height).narrow(3, 0, width); // content moves one pixel down and right
                var upLeft = padded.narrow(2, 2, height).narrow(3, 2, width);
                return [(batch, 0.25), (batch.flip(3), 0.25),
                        (downRight, 0.125), (downRight.flip(3), 0.125),
                        (upLeft, 0.125), (upLeft.flip(3), 0.125)];
            default:
                throw new ArgumentOutOfRangeException(nameof(tta), tta, "unknown test-time augmentation");
        }
    }
}
