using Cifar10.Reporting;

namespace Cifar10.Tests.Reporting;

/// <summary>Deterministic, plausible-looking report inputs, so reporting can be tested without a model.</summary>
public static class SyntheticReportData
{
    public static readonly string[] ClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public const int ImagesPerClass = 1000;

    public static RunReportData Run(string runName = "resnet18-onecycle", int epochs = 30, bool withValidation = true, int seed = 1)
    {
        var random = new Random(seed);
        var confusion = Confusion(random);
        var correct = Enumerable.Range(0, ClassNames.Length).Sum(i => confusion[i, i]);
        return new RunReportData(
            runName,
            [
                new("model", "resnet18"), new("epochs", epochs.ToString()), new("batch_size", "256"),
                new("optimizer", "sgd (momentum 0.9, nesterov)"), new("max_lr", "0.1"), new("weight_decay", "5e-4"),
                new("augmentation", "random crop 32 pad 4 + horizontal flip"), new("device", "cpu"),
            ],
            Epochs(epochs, withValidation, random),
            LearningRates(epochs, stepsPerEpoch: 196, maxLr: 0.1),
            ClassNames,
            confusion,
            (double)correct / (ImagesPerClass * ClassNames.Length),
            Samples(random, count: 32, allWrong: false),
            Samples(random, count: 16, allWrong: true));
    }

    public static IReadOnlyList<EpochMetrics> Epochs(int count, bool withValidation, Random random) =>
        Enumerable.Range(1, count).Select(epoch =>
        {
            var progress = (double)epoch / Math.Max(1, count);
            var trainLoss = 2.1 * Math.Exp(-3 * progress) + 0.05 + random.NextDouble() * 0.02;
            var trainAcc = Math.Min(0.99, 0.35 + 0.62 * (1 - Math.Exp(-4 * progress)));
            var valLoss = trainLoss * 1.15 + 0.12 + random.NextDouble() * 0.05;
            var valAcc = Math.Min(0.95, trainAcc - 0.04 - random.NextDouble() * 0.02);
            return new EpochMetrics(epoch, 0.1 * Math.Sin(Math.PI * progress) + 1e-4, trainLoss, trainAcc,
                withValidation ? valLoss : double.NaN, withValidation ? valAcc : double.NaN,
                41.5 + random.NextDouble() * 3, 1180 + random.NextDouble() * 60);
        }).ToList();

    /// <summary>A one-cycle schedule sampled at every step.</summary>
    public static IReadOnlyList<(long Step, double LearningRate)> LearningRates(int epochs, int stepsPerEpoch, double maxLr)
    {
        var total = epochs * stepsPerEpoch;
        return Enumerable.Range(0, total).Select(step =>
        {
            var t = (double)step / Math.Max(1, total - 1);
            var lr = t < 0.3 ? maxLr * (0.04 + 0.96 * t / 0.3) : maxLr * 0.5 * (1 + Math.Cos(Math.PI * (t - 0.3) / 0.7));
            return ((long)step, lr);
        }).ToList();
    }

    /// <summary>Mostly diagonal, with the classic cat/dog and automobile/truck confusions.</summary>
    public static int[,] Confusion(Random random)
    {
        var n = ClassNames.Length;
        var counts = new int[n, n];
        for (var row = 0; row < n; row++)
        {
            var weights = Enumerable.Range(0, n).Select(c => c == row ? 0 : random.NextDouble()).ToArray();
            if (row == 3) weights[5] = 8;   // cat -> dog
            if (row == 5) weights[3] = 6;   // dog -> cat
            if (row == 1) weights[9] = 6;   // automobile -> truck
            if (row == 9) weights[1] = 5;   // truck -> automobile
            var wrong = row is 3 or 5 ? 180 + random.Next(60) : 40 + random.Next(80);
            var spread = weights.Select(w => (int)(wrong * w / weights.Sum())).ToArray();
            counts[row, row] = ImagesPerClass - spread.Sum();
            for (var column = 0; column < n; column++) if (column != row) counts[row, column] = spread[column];
        }
        return counts;
    }

    /// <summary>Synthetic 32x32 "photos": a sky-to-ground gradient with a class-coloured blob.</summary>
    public static IReadOnlyList<SampleImage> Samples(Random random, int count, bool allWrong) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var trueLabel = random.Next(ClassNames.Length);
            var wrong = allWrong || random.NextDouble() < 0.2;
            var predicted = wrong ? (trueLabel + 1 + random.Next(ClassNames.Length - 1)) % ClassNames.Length : trueLabel;
            var confidence = allWrong ? 0.999 - i * 0.01 : 0.4 + random.NextDouble() * 0.6;
            return new SampleImage(Image(trueLabel, random), trueLabel, predicted, confidence);
        }).ToList();

    private static byte[] Image(int label, Random random)
    {
        const int side = SampleImage.Side, plane = side * side;
        var chw = new byte[SampleImage.ByteCount];
        var (cx, cy, radius) = (8 + random.Next(16), 8 + random.Next(16), 5 + random.Next(6));
        for (var y = 0; y < side; y++)
            for (var x = 0; x < side; x++)
            {
                var inBlob = (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius;
                var p = y * side + x;
                chw[p] = (byte)(inBlob ? 60 + label * 19 : 90 + y * 3);                  // red
                chw[plane + p] = (byte)(inBlob ? 220 - label * 17 : 140 + y * 2);        // green
                chw[2 * plane + p] = (byte)(inBlob ? 40 + (label * 53) % 200 : 230 - y * 4); // blue
            }
        return chw;
    }
}
