using System.Diagnostics;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>How training ended: all epochs, or fewer when an observer stopped it (<see cref="StopReason"/>).</summary>
public sealed record TrainingOutcome(int EpochsCompleted, double BestValAccuracy, int BestEpoch, double Seconds, string? StopReason = null);

/// <summary>The loss became NaN or infinite: the run cannot learn with these settings (exit code 1).</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// The epoch loop: shuffled batches of the uint8 training tensor, augmented and normalised on
/// the device, one optimizer step each; then validation. It computes and reports, and writes
/// nothing: logs and checkpoints are the observers' business. Everything random is derived from
/// (seed, epoch), so a run resumed from a checkpoint continues exactly as if it had never stopped.
/// </summary>
public sealed class Trainer
{
    readonly TrainConfig config;
    readonly nn.Module<Tensor, Tensor> model;
    readonly Device device;
    readonly Normalization normalization;
    Lookahead? averaging;

    /// <param name="normalization">The statistics inputs are normalised with (<see cref="DataSource.NormalizationOf"/>);
    /// CIFAR-10's when not given. They are recorded in every checkpoint.</param>
    public Trainer(TrainConfig config, nn.Module<Tensor, Tensor> model, Device device, Normalization? normalization = null)
    {
        this.config = config.Validated();
        this.model = model;
        this.device = device;
        this.normalization = normalization ?? Normalization.Cifar10;
    }

    /// <summary>
    /// The network a config trains, freshly initialised from the config's seed: built by its catalog
    /// entry with the data set's class count, in the config's precision. Every command builds its
    /// network here (train, sweep, lr-find, the benchmark).
    /// </summary>
    public static nn.Module<Tensor, Tensor> CreateModel(TrainConfig config, int classCount)
    {
        var info = ModelCatalog.Get(config.Model);
        var precision = Precision.Resolve(config.Precision, info);
        torch.manual_seed(config.Seed); // the initial weights
        var model = info.Create(new ModelOptions(classCount, config.Dropout, config.Depth));
        Precision.Apply(model, precision);
        return model;
    }

    /// <summary>The checks that need the network and the data, not only the settings; a caller runs them before it writes anything.</summary>
    public static void CheckCanTrain(TrainConfig config, nn.Module<Tensor, Tensor> model, ImageDataset train)
    {
        if (train.Count < 2) throw new ConfigException($"training needs at least 2 images (got {train.Count})");
        if (config.BatchSize < 2 && model.modules().Any(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d))
            throw new ConfigException($"batch size {config.BatchSize} cannot train the batch-norm layers of {model.GetType().Name}: use 2 or more");
        if (config.LowRes == 0) return;
        if (model is not IAnyImageSize anySize)
            throw new ConfigException($"--low-res needs a network that takes any image size; {model.GetType().Name} takes only the size it was built for");
        long side = Math.Min(train.Images.shape[2], train.Images.shape[3]);
        if (config.LowRes < anySize.SmallestImage || config.LowRes >= side)
            throw new ConfigException($"--low-res must be at least {anySize.SmallestImage} pixels ({model.GetType().Name}'s smallest image) and below the training images' {side} (got {config.LowRes})");
    }

    /// <summary>How many optimizer steps an epoch over <paramref name="trainCount"/> images takes.
    /// A final batch of one image is dropped: batch norm cannot train on it.</summary>
    public static int StepsPerEpoch(int trainCount, int batchSize) => Batches.Count(trainCount, batchSize, dropLoneLast: true);

    /// <summary>
    /// Trains <paramref name="train"/> for the config's epochs (from <paramref name="resumeFrom"/>'s
    /// epoch on, when given), validating on <paramref name="validation"/> (may be empty) after each.
    /// Throws <see cref="OperationCanceledException"/> when cancelled (within one step) and
    /// <see cref="TrainingDivergedException"/> when the loss stops being finite.
    /// </summary>
    /// <param name="initializeFromData">False when the network's weights come from elsewhere (an imported
    /// state_dict): its data-dependent initialisation would overwrite them.</param>
    public TrainingOutcome Fit(ImageDataset train, ImageDataset validation, ITrainingObserver observer,
                               CancellationToken cancellation, ResumePoint? resumeFrom = null, bool initializeFromData = true)
    {
        CheckCanTrain(config, model, train);
        model.to(device);
        if (resumeFrom is null && initializeFromData) InitializeFromData(model, train, normalization, device);
        using var optimizer = OptimizerFactory.Create(config, model);
        int stepsPerEpoch = StepsPerEpoch(train.Count, config.BatchSize);
        var schedule = new LearningRateSchedule(config, stepsPerEpoch);
        var observers = new Observers([observer, .. StopRules(config)]);

        var state = new CheckpointState
        {
            Model = config.Model, Dropout = config.Dropout, Depth = config.Depth, Precision = config.Precision,
            NumClasses = train.ClassNames.Count, ClassNames = train.ClassNames.ToArray(),
            Mean = normalization.Mean.ToArray(), Std = normalization.Std.ToArray(),
        };
        if (resumeFrom is not null)
        {
            resumeFrom.Restore(model, optimizer);
            state = state with
            {
                Epoch = resumeFrom.State.Epoch, GlobalStep = resumeFrom.State.GlobalStep,
                BestValAccuracy = resumeFrom.State.BestValAccuracy, BestEpoch = resumeFrom.State.BestEpoch,
            };
            observers.Message($"resuming after epoch {state.Epoch} of {config.Epochs}");
            // At an epoch boundary the average equals the weights (see Lookahead), so it is rebuilt from them.
            if (config.Lookahead && Lookahead.IsActiveAfter(state.Epoch, stepsPerEpoch, config.Epochs))
                averaging = new Lookahead(model);
        }
        using var _averaging = Disposable(() => { averaging?.Dispose(); averaging = null; });
        // airbench's alternating flips: each image's first-epoch orientation, drawn once for the run.
        using var flipGenerator = new Generator((ulong)Seeds.ForEpoch(config.Seed, 0, Seeds.Augment));
        using var firstEpochFlips = Augmentation.FirstEpochFlips(train.Count, flipGenerator);

        // The whole set sits on the device once, as uint8 (shared, not copied, when it is already there).
        using var onDevice = train.To(device);
        if (config.LowResEpochs > 0)
            observers.Message($"progressive resizing: {(config.LowResEpochs == 1 ? "epoch 1" : $"epochs 1-{config.LowResEpochs}")} on images downscaled to {config.LowRes}x{config.LowRes}, the rest at full size");
        observers.TrainingStarted(new TrainingStart(state.Epoch + 1, config.Epochs, stepsPerEpoch, state.GlobalStep, train.Count, validation.Count));
        var clock = Stopwatch.StartNew();
        string? stopReason = null;

        for (int epoch = state.Epoch + 1; epoch <= config.Epochs && stopReason is null; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            observers.EpochStarted(epoch, config.Epochs, stepsPerEpoch);
            var (trainLoss, trainAccuracy, learningRates, stepSeconds) =
                TrainOneEpoch(epoch, onDevice, firstEpochFlips, optimizer, schedule, stepsPerEpoch, state, observers, cancellation);
            double trainSeconds = epochClock.Elapsed.TotalSeconds;

            var validated = validation.Count > 0
                ? Evaluator.Evaluate(model, validation, device, config.EvalBatchSize, normalization: normalization, cancellation: cancellation)
                : null;
            double valAccuracy = validated?.Accuracy ?? double.NaN;
            bool isBest = validated is not null && (double.IsNaN(state.BestValAccuracy) || valAccuracy > state.BestValAccuracy);
            state = state with
            {
                Epoch = epoch, GlobalStep = state.GlobalStep + stepsPerEpoch,
                BestValAccuracy = isBest ? valAccuracy : state.BestValAccuracy, BestEpoch = isBest ? epoch : state.BestEpoch,
            };

            ProcessMemory.ReleaseFreed();
            var metrics = new EpochMetrics(epoch, learningRates[^1], trainLoss, trainAccuracy,
                                           validated?.Loss ?? double.NaN, valAccuracy,
                                           epochClock.Elapsed.TotalSeconds, train.Count / trainSeconds,
                                           StepImagesPerSecond: train.Count / stepSeconds,
                                           ResidentMiB: System.Environment.WorkingSet / (1024.0 * 1024.0));
            long firstStep = state.GlobalStep - stepsPerEpoch;
            var end = new EpochEnd(metrics, isBest, learningRates.Select((rate, i) => (firstStep + i, rate)).ToList(), state, model, optimizer);
            observers.EpochCompleted(end);
            stopReason = end.StopReason;
        }
        if (stopReason is not null) observers.Message($"stopped after epoch {state.Epoch}: {stopReason}");
        return new TrainingOutcome(state.Epoch, state.BestValAccuracy, state.BestEpoch, clock.Elapsed.TotalSeconds, stopReason);
    }

    /// <summary>The observers that end training before its last epoch, as the config asks.</summary>
    static IEnumerable<ITrainingObserver> StopRules(TrainConfig config)
    {
        if (config.EarlyStop > 0) yield return new EarlyStopping(config.EarlyStop);
        if (config.TimeLimitMinutes > 0) yield return new TimeLimit(config.TimeLimitMinutes, config.Epochs);
    }

    /// <summary>The part of a network's initialisation that looks at the training data (declared by the
    /// network through <see cref="IDataInitialized"/>), from the first images it asks for.</summary>
    public static void InitializeFromData(nn.Module<Tensor, Tensor> model, ImageDataset train, Normalization normalization, Device device)
    {
        if (model is not IDataInitialized initialized) return;
        using var scope = torch.NewDisposeScope();
        var sample = train.Images.narrow(0, 0, Math.Min(initialized.InitializationImages, train.Count)).to(device);
        initialized.InitializeFromData(normalization.Normalize(sample));
    }

    (double Loss, double Accuracy, double[] LearningRates, double StepSeconds) TrainOneEpoch(
        int epoch, ImageDataset data, Tensor firstEpochFlips, ITrainingOptimizer optimizer, LearningRateSchedule schedule,
        int stepsPerEpoch, CheckpointState before, ITrainingObserver observer, CancellationToken cancellation)
    {
        model.train();
        (model as IEpochAware)?.EpochStarting(epoch, config.Epochs);
        using var shuffleGenerator = new Generator((ulong)Seeds.ForEpoch(config.Seed, epoch, Seeds.Shuffle), device);
        using var augmentGenerator = new Generator((ulong)Seeds.ForEpoch(config.Seed, epoch, Seeds.Augment), device);
        torch.manual_seed(Seeds.ForEpoch(config.Seed, epoch, Seeds.Dropout)); // dropout draws from the global generator
        using var order = torch.randperm(data.Count, generator: shuffleGenerator, device: device);

        var augment = config.Augmentation;
        int? lowRes = config.LowResIn(epoch);
        var update = new TrainingStep(model, optimizer, config.LabelSmoothing, config.ClipGradNorm);
        var learningRates = new double[stepsPerEpoch];
        double lossSum = 0;
        long correct = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        var stepClock = new Stopwatch();
        int step = 0;

        foreach (var (start, length) in Batches.Ranges(data.Count, config.BatchSize, dropLoneLast: true))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var batch = order.narrow(0, start, length);
            var augmented = Augmentation.Apply(data.Images.index_select(0, batch), augment, augmentGenerator);
            if (config.AlternatingFlip)
                augmented = Augmentation.AlternatingFlip(augmented, firstEpochFlips.index_select(0, batch), epoch);
            var x = normalization.Normalize(augmented);
            if (lowRes is int side) // after the augmentations, so a crop shifts by whole pixels of the full-size image
                x = nn.functional.interpolate(x, [side, side], mode: InterpolationMode.Bilinear, align_corners: false, antialias: true);
            var y = data.Labels.index_select(0, batch);

            long globalStep = before.GlobalStep + step;
            double rate = schedule.At(globalStep);
            learningRates[step] = rate;
            stepClock.Start();
            var (loss, logits) = update.Run(x, y, rate);
            float lossValue = loss.item<float>(); // the sync point on an asynchronous device, so inside the step's time
            stepClock.Stop();
            if (!float.IsFinite(lossValue))
                throw new TrainingDivergedException(
                    $"training diverged in epoch {epoch}, step {step + 1}: the loss is {lossValue}. " +
                    (before.Epoch > 0 ? $"The last good checkpoint is from epoch {before.Epoch}. " : "No epoch completed. ") +
                    "Lower --lr, or add --clip-grad-norm.");
            lossSum += lossValue * length;

            correct += logits.argmax(1).eq(y).sum().item<long>();
            seen += length;
            if (config.Lookahead) AverageWeights(globalStep + 1, epoch, schedule.TotalSteps);
            step++;
            observer.StepCompleted(new StepProgress(epoch, config.Epochs, step, stepsPerEpoch, lossSum / seen,
                                                    correct / (double)seen, seen / clock.Elapsed.TotalSeconds, rate, lossValue));
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
}
