using System.Diagnostics;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Training;

public sealed record TrainingOutcome(int EpochsCompleted, double BestValAccuracy, int BestEpoch, double Seconds);

/// <summary>
/// The epoch loop: shuffled batches of the uint8 training tensor, augmented and normalised on
/// the device, one optimizer step each; then validation, logs and checkpoints. Everything
/// random is derived from (seed, epoch), so a run resumed from its last checkpoint continues
/// exactly as if it had never stopped.
/// </summary>
public sealed class Trainer
{
    readonly TrainConfig config;
    readonly nn.Module<Tensor, Tensor> model;
    readonly Device device;
    readonly string modelName;
    Lookahead? averaging;

    /// <summary>The whitening images for <see cref="FastNet.InitializeWhitening"/>: the first 5,000 training images, as airbench.</summary>
    public const int WhiteningImages = 5000;

    public Trainer(TrainConfig config, nn.Module<Tensor, Tensor> model, Device device)
    {
        this.config = config.Validated();
        this.model = model;
        this.device = device;
        modelName = config.Model;
    }

    /// <summary>How many optimizer steps an epoch over <paramref name="trainCount"/> images takes.
    /// A final batch of one image is dropped: batch norm cannot train on it.</summary>
    public static int StepsPerEpoch(int trainCount, int batchSize)
    {
        int steps = trainCount / batchSize;
        int remainder = trainCount % batchSize;
        return remainder >= 2 || steps == 0 ? steps + 1 : steps;
    }

    public TrainingOutcome Fit(Cifar10Dataset train, Cifar10Dataset validation, RunFolder run,
                               ITrainingObserver observer, CancellationToken cancellation, bool resume = false)
    {
        if (train.Count < 2) throw new ConfigException($"training needs at least 2 images (got {train.Count})");
        model.to(device);
        if (!resume) InitializeFromData(model, train, device);
        using var optimizer = OptimizerFactory.Create(config, model);
        int stepsPerEpoch = StepsPerEpoch(train.Count, config.BatchSize);
        var schedule = new LearningRateSchedule(config, stepsPerEpoch);

        int completedEpochs = 0;
        long globalStep = 0;
        double bestValAccuracy = double.NaN;
        int bestEpoch = 0;
        if (resume)
        {
            var state = Checkpoint.ReadState(Checkpoint.Locate(run.Last));
            Checkpoint.LoadWeights(model, run.Last);
            Checkpoint.LoadOptimizer(optimizer, run.Last);
            (completedEpochs, globalStep, bestValAccuracy, bestEpoch) = (state.Epoch, state.GlobalStep, state.BestValAccuracy, state.BestEpoch);
            run.TruncateLogs(completedEpochs, globalStep);
            observer.Message($"resuming {run.Path} after epoch {completedEpochs} of {config.Epochs}");
            // At an epoch boundary the average equals the weights (see Lookahead), so it is rebuilt from them.
            if (config.Lookahead && Lookahead.IsActiveAfter(completedEpochs, stepsPerEpoch, config.Epochs))
                averaging = new Lookahead(model);
        }
        using var _averaging = Disposable(() => { averaging?.Dispose(); averaging = null; });
        // airbench's alternating flips: each image's first-epoch orientation, drawn once for the run.
        using var firstEpochFlips = Augmentation.FirstEpochFlips(train.Count, new Generator((ulong)Seeds.ForEpoch(config.Seed, 0, Seeds.Augment)));

        // The whole set goes to the device once, as uint8; batches are cut from it by index.
        using var onDevice = train.To(device);
        var (images, labels) = (onDevice.Images, onDevice.Labels);
        var tensorBoard = torch.utils.tensorboard.SummaryWriter(run.File(RunFolder.TensorBoardFolder));
        var clock = Stopwatch.StartNew();

        for (int epoch = completedEpochs + 1; epoch <= config.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            observer.EpochStarted(epoch, config.Epochs, stepsPerEpoch);
            var (trainLoss, trainAccuracy, learningRates, stepSeconds) =
                TrainOneEpoch(epoch, images, labels, firstEpochFlips, optimizer, schedule, stepsPerEpoch, globalStep, observer, cancellation);
            globalStep += stepsPerEpoch;
            double trainSeconds = epochClock.Elapsed.TotalSeconds;

            var validated = validation.Count > 0
                ? Evaluator.Evaluate(model, validation, device, config.EvalBatchSize)
                : null;
            double valAccuracy = validated?.Accuracy ?? double.NaN;
            bool isBest = validated is not null && (double.IsNaN(bestValAccuracy) || valAccuracy > bestValAccuracy);
            if (isBest) (bestValAccuracy, bestEpoch) = (valAccuracy, epoch);

            ProcessMemory.ReleaseFreed();
            var metrics = new EpochMetrics(epoch, learningRates[^1], trainLoss, trainAccuracy,
                                           validated?.Loss ?? double.NaN, valAccuracy,
                                           epochClock.Elapsed.TotalSeconds, train.Count / trainSeconds,
                                           StepImagesPerSecond: train.Count / stepSeconds,
                                           ResidentMiB: System.Environment.WorkingSet / (1024.0 * 1024.0));
            // Logs first, checkpoint last: a run killed in between redoes this epoch on resume
            // and TruncateLogs drops the row written here.
            MetricsCsv.Append(run.File(RunFolder.MetricsFile), metrics);
            LearningRateCsv.Append(run.File(RunFolder.LearningRateFile),
                                   learningRates.Select((rate, i) => (globalStep - stepsPerEpoch + i, rate)).ToList());
            WriteTensorBoard(tensorBoard, metrics);

            var state = new CheckpointState
            {
                Epoch = epoch, GlobalStep = globalStep, BestValAccuracy = bestValAccuracy, BestEpoch = bestEpoch,
                Model = modelName, Dropout = config.Dropout, Depth = config.Depth,
                NumClasses = train.ClassNames.Count, ClassNames = train.ClassNames.ToArray(),
            };
            Checkpoint.Save(run.Last, model, optimizer, state);
            if (isBest) Checkpoint.Save(run.Best, model, null, state);
            observer.EpochCompleted(metrics, isBest);
        }

        return new TrainingOutcome(config.Epochs, bestValAccuracy, bestEpoch, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The part of a network's initialisation that looks at the training data: the fast
    /// network's whitening filters, from the first <see cref="WhiteningImages"/> images.</summary>
    public static void InitializeFromData(nn.Module<Tensor, Tensor> model, Cifar10Dataset train, Device device)
    {
        if (model is not FastNet fast) return;
        using var scope = torch.NewDisposeScope();
        var sample = train.Images.narrow(0, 0, Math.Min(WhiteningImages, train.Count)).to(device);
        fast.InitializeWhitening(Normalization.Normalize(sample));
    }

    /// <summary>airbench trains the whitening bias for the same first 30% of the epochs that precede averaging.</summary>
    public static bool WhiteningBiasTrainedIn(int epoch, int epochs) => epoch - 1 < Lookahead.StartEpochIndex(epochs);

    (double Loss, double Accuracy, double[] LearningRates, double StepSeconds) TrainOneEpoch(
        int epoch, Tensor images, Tensor labels, Tensor firstEpochFlips, TorchSharp.Modules.OptimizerHelper optimizer,
        LearningRateSchedule schedule, int stepsPerEpoch, long firstStep, ITrainingObserver observer, CancellationToken cancellation)
    {
        model.train();
        if (model is FastNet fast) fast.WhiteningBiasTrainable = WhiteningBiasTrainedIn(epoch, config.Epochs);
        using var shuffleGenerator = new Generator((ulong)Seeds.ForEpoch(config.Seed, epoch, Seeds.Shuffle), device);
        using var augmentGenerator = new Generator((ulong)Seeds.ForEpoch(config.Seed, epoch, Seeds.Augment), device);
        torch.manual_seed(Seeds.ForEpoch(config.Seed, epoch, Seeds.Dropout)); // dropout draws from the global generator
        using var order = torch.randperm(images.shape[0], generator: shuffleGenerator, device: device);

        var augment = new AugmentOptions
        {
            Crop = config.RandomCrop, Padding = config.CropPadding, PadMode = config.CropPadMode,
            Flip = config.HorizontalFlip && !config.AlternatingFlip, Cutout = config.Cutout,
        };
        var update = new TrainingStep(model, optimizer, config.LabelSmoothing);
        var learningRates = new double[stepsPerEpoch];
        double lossSum = 0;
        long correct = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        var stepClock = new Stopwatch();

        for (int step = 0; step < stepsPerEpoch; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            int start = step * config.BatchSize;
            int length = (int)Math.Min(config.BatchSize, images.shape[0] - start);
            var batch = order.narrow(0, start, length);
            var augmented = Augmentation.Apply(images.index_select(0, batch), augment, augmentGenerator);
            if (config.AlternatingFlip)
                augmented = Augmentation.AlternatingFlip(augmented, firstEpochFlips.index_select(0, batch), epoch);
            var x = Normalization.Normalize(augmented);
            var y = labels.index_select(0, batch);

            double rate = schedule.At(firstStep + step);
            learningRates[step] = rate;
            stepClock.Start();
            var (loss, logits) = update.Run(x, y, rate);
            lossSum += loss.item<float>() * length; // the sync point on an asynchronous device, so inside the step's time
            stepClock.Stop();

            correct += logits.argmax(1).eq(y).sum().item<long>();
            seen += length;
            if (config.Lookahead) AverageWeights(firstStep + step + 1, epoch, schedule.TotalSteps);
            observer.StepCompleted(new StepProgress(epoch, config.Epochs, step + 1, stepsPerEpoch, lossSum / seen,
                                                    correct / (double)seen, seen / clock.Elapsed.TotalSeconds, rate));
        }
        averaging?.Update(decay: 1); // the network ends every epoch equal to its average
        return (lossSum / seen, correct / (double)seen, learningRates, stepClock.Elapsed.TotalSeconds);
    }

    void AverageWeights(long stepsDone, int epoch, long totalSteps)
    {
        if (!Lookahead.UpdatesAt(stepsDone, epoch - 1, config.Epochs)) return;
        if (averaging is null) averaging = new Lookahead(model);
        else averaging.Update(Lookahead.DecayAt(stepsDone, totalSteps));
    }

    static IDisposable Disposable(Action dispose) => new Disposer(dispose);

    sealed class Disposer(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    static void WriteTensorBoard(TorchSharp.Modules.SummaryWriter writer, EpochMetrics metrics)
    {
        writer.add_scalar("loss/train", (float)metrics.TrainLoss, metrics.Epoch);
        writer.add_scalar("accuracy/train", (float)metrics.TrainAccuracy, metrics.Epoch);
        if (!double.IsNaN(metrics.ValAccuracy))
        {
            writer.add_scalar("loss/validation", (float)metrics.ValLoss, metrics.Epoch);
            writer.add_scalar("accuracy/validation", (float)metrics.ValAccuracy, metrics.Epoch);
        }
        writer.add_scalar("learning_rate", (float)metrics.LearningRate, metrics.Epoch);
        writer.add_scalar("images_per_second", (float)metrics.ImagesPerSecond, metrics.Epoch);
    }
}
