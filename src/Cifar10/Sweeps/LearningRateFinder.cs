using Cifar10.Data;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runs;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Sweeps;

/// <summary>What the learning-rate finder measured, and the rate it suggests.</summary>
/// <param name="Points">Each step's learning rate and smoothed loss, in order.</param>
/// <param name="Suggested">The rate where the smoothed loss fell fastest.</param>
public sealed record LearningRateFinderResult(IReadOnlyList<(double Lr, double Loss)> Points, double Suggested);

/// <summary>
/// fastai's learning-rate finder: train briefly while the learning rate grows exponentially
/// from <c>start</c> to <c>end</c>, record the smoothed loss, stop once it explodes, and
/// suggest the rate where the loss falls fastest. The network trained here is thrown away.
/// </summary>
public static class LearningRateFinder
{
    /// <summary>The activity the finder's progress reports carry (<see cref="WorkProgress.Activity"/>).</summary>
    public const string Activity = "lr-find";

    /// <summary>Whether the finder uses <paramref name="setting"/>: it has no epochs, schedule or evaluation, and it
    /// sweeps the learning rate itself (the rest of the optimizer, the network, the data and augmentation apply).</summary>
    public static bool Uses(Setting setting) =>
        setting.Group is not (SettingGroup.Schedule or SettingGroup.Evaluation) && setting.Name is not ("lr" or "alternating-flip");

    /// <summary>Trains <paramref name="model"/> for up to <paramref name="steps"/> steps while the learning rate grows
    /// from <paramref name="start"/> to <paramref name="end"/>, and returns the smoothed losses and the suggested rate.</summary>
    /// <param name="model">A network built for <paramref name="config"/> (<see cref="Trainer.CreateModel"/>: its precision included).</param>
    /// <param name="progress">Told the steps done: 0 at the start, then after every step with its learning rate and
    /// smoothed loss; a finder that stops early ends with the steps it took as the total.</param>
    public static LearningRateFinderResult Run(nn.Module<Tensor, Tensor> model, ImageDataset train, TrainConfig config,
                                               Device device, double start = 1e-7, double end = 10, int steps = 100,
                                               CancellationToken cancellation = default, Normalization? normalization = null,
                                               IProgress<WorkProgress>? progress = null)
    {
        normalization ??= Normalization.Cifar10;
        if (!(start > 0 && end > start && double.IsFinite(end))) throw new ConfigException($"the learning-rate range must satisfy 0 < start < end, both finite (got {start}..{end})");
        if (steps < 10) throw new ConfigException($"the finder needs at least 10 steps (got {steps})");
        model.to(device);
        Trainer.InitializeFromData(model, train, normalization, device);
        model.train();
        (model as IEpochAware)?.EpochStarting(1, config.Epochs);
        using var optimizer = OptimizerFactory.Create(config, model);
        var update = new TrainingStep(model, optimizer, config.LabelSmoothing, config.ClipGradNorm, config.MicroBatch);
        using var onDevice = train.To(device);
        using var generator = new Generator((ulong)Seeds.ForEpoch(config.Seed, 0, Seeds.Shuffle), device);
        // Random flips even where the recipe alternates them: the finder has no epochs to alternate over.
        var augment = config.Augmentation with { Flip = config.HorizontalFlip };

        progress?.Report(new WorkProgress(Activity, 0, steps, "step",
                                          $"learning rate {start:g3} to {end:g3}, batch {Math.Min(config.BatchSize, onDevice.Count)}; stops early once the loss explodes"));
        var points = new List<(double Lr, double Loss)>();
        const double beta = 0.98; // smoothing of fastai's recorder
        double average = 0, best = double.PositiveInfinity;
        for (int i = 0; i < steps; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            double rate = start * Math.Pow(end / start, i / (double)(steps - 1));
            var batch = torch.randint(0, onDevice.Count, [Math.Min(config.BatchSize, onDevice.Count)], generator: generator, device: device);
            var x = normalization.Normalize(Augmentation.Apply(onDevice.Images.index_select(0, batch), augment, generator));
            var (loss, _) = update.Run(x, onDevice.Labels.index_select(0, batch), rate);
            double value = loss.item<float>();
            average = beta * average + (1 - beta) * value;
            double smoothed = average / (1 - Math.Pow(beta, i + 1));
            if (!double.IsFinite(smoothed) || (i > 0 && smoothed > 4 * best))
            {
                progress?.Report(new WorkProgress(Activity, i + 1, i + 1, "step", $"stopped: the loss exploded at lr {rate:g3}"));
                break;
            }
            best = Math.Min(best, smoothed);
            points.Add((rate, smoothed));
            progress?.Report(new WorkProgress(Activity, i + 1, steps, "step", $"lr {rate:g3} loss {smoothed:F3}"));
        }
        return new LearningRateFinderResult(points, Suggest(points));
    }

    /// <summary>The rate of steepest descent of the smoothed loss against log(lr), ignoring the
    /// noisy first and last tenth of the curve.</summary>
    public static double Suggest(IReadOnlyList<(double Lr, double Loss)> points)
    {
        if (points.Count < 3) return points.Count > 0 ? points[0].Lr : double.NaN;
        int skip = Math.Max(1, points.Count / 10);
        int bestIndex = skip;
        double steepest = double.PositiveInfinity;
        for (int i = skip; i < points.Count - skip; i++)
        {
            double slope = (points[i + 1].Loss - points[i - 1].Loss) / (Math.Log(points[i + 1].Lr) - Math.Log(points[i - 1].Lr));
            if (slope < steepest) (steepest, bestIndex) = (slope, i);
        }
        return points[bestIndex].Lr;
    }
}

/// <summary>Writes a finder's result: lr_find.csv (lr, smoothed loss) and lr_find.png (suggestion marked). Files
/// already in the folder are replaced only when the caller says so, and never a file of a run or checkpoint.</summary>
public static class LearningRateFinderFiles
{
    /// <summary>The smoothed loss against the learning rate, as a table and as a plot.</summary>
    public static readonly IReadOnlyList<string> FileNames = ["lr_find.csv", "lr_find.png"];

    /// <summary>Throws the <see cref="ConfigException"/> <see cref="Write"/> would, before any time is spent on the finder.</summary>
    public static void CheckCanWrite(string folder, bool replace) =>
        OutputFiles.CheckCanWriteInto(folder, FileNames, replace);

    /// <summary>Writes both files into <paramref name="folder"/> (atomically; files already there are replaced only with
    /// <paramref name="replace"/>) and returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, LearningRateFinderResult result, bool replace)
    {
        CheckCanWrite(folder, replace);
        var csv = Path.GetFullPath(Path.Combine(folder, FileNames[0]));
        AtomicFile.WriteAllText(csv, Csv.Document(["lr", "loss"], result.Points.Select(p => new[] { Csv.Number(p.Lr), Csv.Number(p.Loss) })));
        var plot = Path.GetFullPath(Path.Combine(folder, FileNames[1]));
        Plots.LearningRateFinder(plot, result.Points, result.Suggested);
        return [csv, plot];
    }
}
