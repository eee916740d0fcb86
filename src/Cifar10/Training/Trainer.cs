using System.Diagnostics;
using Cifar10.Data;
using Cifar10.Distributed;
using Cifar10.Evaluation;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>How training ended: all epochs, or fewer when an observer stopped it (<see cref="StopReason"/>).</summary>
/// <param name="EpochsCompleted">The last epoch completed (counting epochs of earlier sessions of a resumed run).</param>
/// <param name="BestValAccuracy">The best validation accuracy, 0 to 1; NaN without a validation set.</param>
/// <param name="BestEpoch">The epoch that reached it.</param>
/// <param name="Seconds">The time this call to <see cref="Trainer.Fit"/> took.</param>
/// <param name="StopReason">Why an observer stopped training early, or null.</param>
public sealed record TrainingOutcome(int EpochsCompleted, double BestValAccuracy, int BestEpoch, double Seconds, string? StopReason = null);

/// <summary>The loss became NaN or infinite: the run cannot learn with these settings (exit code 1).</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// The epoch loop: shuffled batches of the uint8 training tensor, augmented and normalised on
/// the device, one optimizer step each; then validation. It computes and reports, and writes
/// nothing: logs and checkpoints are the observers' business. Everything random is derived from
/// (seed, epoch), so a run resumed from a checkpoint continues exactly as if it had never stopped.
/// With several MPI ranks (the <c>distributed</c> setting, through <see cref="Runs.TrainingRun"/>) each trains on its share of every batch.
/// </summary>
public sealed class Trainer
{
    readonly TrainConfig config;
    readonly nn.Module<Tensor, Tensor> model;
    readonly Device device;
    readonly Normalization normalization;
    readonly DataParallel parallel;
    Lookahead? averaging;
    GradientAllReduce? gradients;

    /// <summary>A trainer of <paramref name="model"/> (on <paramref name="device"/> already) with the settings of
    /// <paramref name="config"/>, in this process.</summary>
    /// <param name="config">The settings; validated here (<see cref="ConfigException"/>).</param>
    /// <param name="model">The network, as <see cref="CreateModel"/> or a checkpoint built it.</param>
    /// <param name="device">Where the batches go: the network's device.</param>
    /// <param name="normalization">The statistics inputs are normalised with (<see cref="DataSource.NormalizationOf"/>);
    /// CIFAR-10's when not given. They are recorded in every checkpoint.</param>
    public Trainer(TrainConfig config, nn.Module<Tensor, Tensor> model, Device device, Normalization? normalization = null)
        : this(config, model, device, normalization, DataParallel.SingleProcess)
    {
    }

    /// <summary>A trainer on the ranks of <paramref name="parallel"/> (the run layer's, for <c>--distributed</c>).</summary>
    internal Trainer(TrainConfig config, nn.Module<Tensor, Tensor> model, Device device, Normalization? normalization, DataParallel parallel)
    {
        this.config = config.Validated();
        this.model = model;
        this.device = device;
        this.normalization = normalization ?? Normalization.Cifar10;
        this.parallel = parallel;
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
    /// <param name="ranks">The processes that share every batch (--batch-size is the global batch).</param>
    public static void CheckCanTrain(TrainConfig config, nn.Module<Tensor, Tensor> model, ImageDataset train, int ranks = 1)
    {
        if (train.Count < 2) throw new ConfigException($"training needs at least 2 images (got {train.Count})");
        if (config.BatchSize < ranks)
            throw new ConfigException($"batch size {config.BatchSize} is smaller than the {ranks} MPI processes: --batch-size is the global batch, and every process needs images of each");
        if (config.BatchSize < 2 * ranks && model.modules().Any(m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d))
            throw new ConfigException(ranks == 1
                ? $"batch size {config.BatchSize} cannot train the batch-norm layers of {model.GetType().Name}: use 2 or more"
                : $"batch size {config.BatchSize} cannot train the batch-norm layers of {model.GetType().Name} on {ranks} MPI processes: each needs 2 images of every batch, so use {2 * ranks} or more");
        if (config.LowRes == 0) return;
        if (model is not IAnyImageSize anySize)
            throw new ConfigException(LowResUnsupported(model.GetType().Name));
        long side = Math.Min(train.Images.shape[2], train.Images.shape[3]);
        if (config.LowRes < anySize.SmallestImage || config.LowRes >= side)
            throw new ConfigException($"--low-res must be at least {anySize.SmallestImage} pixels ({model.GetType().Name}'s smallest image) and below the training images' {side} (got {config.LowRes})");
    }

    /// <summary>The refusal of --low-res for <paramref name="network"/>, which takes only the image size it was built for:
    /// the settings' check names a catalog network, <see cref="CheckCanTrain"/> a network built in code.</summary>
    internal static string LowResUnsupported(string network) =>
        $"--low-res needs a network that takes any image size ({ModelCatalog.NamesWhere(m => m.AcceptsAnyImageSize)}); {network} takes only the size it was built for (give --low-res 0 to train it at full size throughout)";

    /// <summary>How many optimizer steps an epoch over <paramref name="trainCount"/> images takes.
    /// A final batch of one image is dropped: batch norm cannot train on it; on several <paramref name="ranks"/>,
    /// one too short to give each rank two images.</summary>
    public static int StepsPerEpoch(int trainCount, int batchSize, int ranks = 1) =>
        ranks == 1
            ? Batches.Count(trainCount, batchSize, dropLoneLast: true)
            : trainCount / batchSize + (trainCount % batchSize >= 2 * ranks ? 1 : 0);

    /// <summary>
    /// Trains <paramref name="train"/> for the config's epochs (from <paramref name="resumeFrom"/>'s
    /// epoch on, when given), validating on <paramref name="validation"/> (may be empty) after each.
    /// Throws <see cref="OperationCanceledException"/> when cancelled (within one step; on several ranks, all
    /// after the same step) and <see cref="TrainingDivergedException"/> when the loss stops being finite.
    /// </summary>
    /// <param name="initializeFromData">False when the network's weights come from elsewhere (an imported
    /// state_dict): its data-dependent initialisation would overwrite them.</param>
    public TrainingOutcome Fit(ImageDataset train, ImageDataset validation, ITrainingObserver observer,
                               CancellationToken cancellation, ResumePoint? resumeFrom = null, bool initializeFromData = true)
    {
        CheckCanTrain(config, model, train, parallel.Size);
        cancellation = parallel.Follow(cancellation);
        model.to(device);
        using var optimizer = OptimizerFactory.Create(config, model);
        int stepsPerEpoch = StepsPerEpoch(train.Count, config.BatchSize, parallel.Size);
        var schedule = new LearningRateSchedule(config, stepsPerEpoch);
        var observers = new Observers([observer, .. StopRules(config, train)]);

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
        parallel.StartFromMain(model, resumeFrom is null && initializeFromData ? () => InitializeFromData(model, train, normalization, device) : null);
        using var _averaging = new OnDispose(() => { averaging?.Dispose(); averaging = null; });
        gradients = parallel.Gradients(model);
        using var _gradients = new OnDispose(() => { gradients?.Dispose(); gradients = null; });
        // airbench's alternating flips: each image's first-epoch orientation, drawn once for the run.
        using var flipGenerator = new Generator((ulong)Seeds.ForEpoch(config.Seed, 0, Seeds.Augment));
        using var firstEpochFlips = Augmentation.FirstEpochFlips(train.Count, flipGenerator);

        // The whole set sits on the device once, as uint8 (shared, not copied, when it is already there).
        using var onDevice = train.To(device);
        if (config.LowResEpochs > state.Epoch) // not when a resumed run is past them
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
            parallel.EndEpoch(model, epoch);

            var validated = validation.Count > 0
                ? parallel.Evaluate(validation, config.EvalBatchSize, shard =>
                    Evaluator.Evaluate(model, shard, device, config.EvalBatchSize, normalization: normalization, cancellation: cancellation))
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
            stopReason = parallel.FromMain(end.StopReason); // rank 0's observers decide
        }
        if (stopReason is not null) observers.Message($"stopped after epoch {state.Epoch}: {stopReason}");
        return new TrainingOutcome(state.Epoch, state.BestValAccuracy, state.BestEpoch, clock.Elapsed.TotalSeconds, stopReason);
    }

    /// <summary>The observers that end training before its last epoch, as the config asks.</summary>
    static IEnumerable<ITrainingObserver> StopRules(TrainConfig config, ImageDataset train)
    {
        if (config.EarlyStop > 0) yield return new EarlyStopping(config.EarlyStop);
        if (config.TimeLimitMinutes > 0)
        {
            long height = train.Images.shape[2], width = train.Images.shape[3];
            yield return new TimeLimit(config.TimeLimitMinutes, config.Epochs, epoch => config.PixelShareIn(epoch, height, width));
        }
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
        torch.manual_seed(parallel.SeedOfThisRank(Seeds.ForEpoch(config.Seed, epoch, Seeds.Dropout))); // dropout draws from the global generator
        using var order = torch.randperm(data.Count, generator: shuffleGenerator, device: device);

        var augment = config.Augmentation;
        int? lowRes = config.LowResIn(epoch);
        var update = new TrainingStep(model, optimizer, config.LabelSmoothing, config.ClipGradNorm, config.MicroBatch, gradients);
        var learningRates = new double[stepsPerEpoch];
        double lossSum = 0;
        long correct = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        var stepClock = new Stopwatch();
        int step = 0;

        foreach (var (start, length) in Batches.Ranges(data.Count, config.BatchSize).Take(stepsPerEpoch))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            // Every rank draws the whole batch's augmentations from the same generator, then keeps its share:
            // the ranks' shares together are exactly the batch one process would train on.
            var (shareStart, shareLength) = parallel.ShareOf(length);
            var batch = order.narrow(0, start, length);
            var augmented = Augmentation.Apply(data.Images.index_select(0, batch), augment, augmentGenerator).narrow(0, shareStart, shareLength);
            batch = batch.narrow(0, shareStart, shareLength);
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
            var (loss, logits) = update.Run(x, y, rate, batchShare: shareLength / (double)length);
            float lossValue = loss.item<float>(); // the sync point on an asynchronous device, so inside the step's time
            stepClock.Stop();
            // The whole batch's figures, summed over the ranks (which also agree here whether to stop).
            var (stepLossSum, stepCorrect) = parallel.AgreeOnStep(lossValue * shareLength, logits.argmax(1).eq(y).sum().item<long>());
            if (!double.IsFinite(stepLossSum))
                throw parallel.Collective(new TrainingDivergedException( // every rank sees the same sum
                    $"training diverged in epoch {epoch}, step {step + 1}: the loss is {stepLossSum / length}. " +
                    (before.Epoch > 0 ? $"The last good checkpoint is from epoch {before.Epoch}. " : "No epoch completed. ") +
                    "Lower --lr, or add --clip-grad-norm."));
            lossSum += stepLossSum;
            correct += stepCorrect;
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
}
