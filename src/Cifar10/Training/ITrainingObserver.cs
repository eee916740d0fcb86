using System.Globalization;
using Cifar10.Reporting;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>Where training starts: at <see cref="FirstEpoch"/> (1 for a new run, later when resumed).</summary>
/// <param name="FirstEpoch">The 1-based epoch training starts with.</param>
/// <param name="Epochs">The epochs of the whole run.</param>
/// <param name="StepsPerEpoch">Optimizer steps per epoch.</param>
/// <param name="FirstStep">The global step training starts at (0 for a new run).</param>
/// <param name="TrainCount">The images trained on per epoch.</param>
/// <param name="ValidationCount">The images validated on after each epoch (0: no validation).</param>
public sealed record TrainingStart(int FirstEpoch, int Epochs, int StepsPerEpoch, long FirstStep, int TrainCount, int ValidationCount)
{
    /// <summary>Whether the run continues from a checkpoint rather than starting afresh.</summary>
    public bool Resumed => FirstEpoch > 1 || FirstStep > 0;
}

/// <summary>One moment of an epoch, for progress bars: <see cref="Loss"/> and <see cref="Accuracy"/> over
/// the epoch so far, <see cref="StepLoss"/> the loss of this step's batch alone.</summary>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="Epochs">The epochs of the run.</param>
/// <param name="Step">The steps done in this epoch, 1 to <paramref name="StepsPerEpoch"/>.</param>
/// <param name="StepsPerEpoch">Optimizer steps per epoch.</param>
/// <param name="Loss">The mean training loss over the epoch's images so far.</param>
/// <param name="Accuracy">The training accuracy over the epoch's images so far, 0 to 1 (on augmented images, in training mode).</param>
/// <param name="ImagesPerSecond">Training images per second over the epoch so far.</param>
/// <param name="LearningRate">The learning rate of this step.</param>
/// <param name="StepLoss">The loss of this step's batch alone.</param>
public sealed record StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch,
                                  double Loss, double Accuracy, double ImagesPerSecond, double LearningRate,
                                  double StepLoss = double.NaN);

/// <summary>
/// The end of an epoch as the trainer hands it to its observers: the figures, the learning rate of
/// every step, and the network and optimizer with the state a checkpoint records, for an observer
/// that saves them. An observer may ask training to stop (early stopping, a time budget).
/// </summary>
public sealed class EpochEnd(EpochMetrics metrics, bool isBest, IReadOnlyList<(long Step, double LearningRate)> learningRates,
                             CheckpointState state, nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer)
{
    /// <summary>The epoch's figures: losses, accuracies, time, throughput, memory (a line of metrics.csv).</summary>
    public EpochMetrics Metrics { get; } = metrics;
    /// <summary>Whether this epoch's validation accuracy is the best so far (the run's <c>best/</c> checkpoint is then this epoch's).</summary>
    public bool IsBest { get; } = isBest;
    /// <summary>The learning rate of every step of the epoch, by global step (lr.csv).</summary>
    public IReadOnlyList<(long Step, double LearningRate)> LearningRates { get; } = learningRates;
    /// <summary>What a checkpoint of this moment records besides the weights: saving <see cref="Model"/>, <see cref="Optimizer"/> and this with <see cref="Checkpoint.Save"/> lets a run resume here.</summary>
    public CheckpointState State { get; } = state;
    /// <summary>The network as it stands after the epoch (still the trainer's: an observer saves it, it does not keep or dispose it).</summary>
    public nn.Module<Tensor, Tensor> Model { get; } = model;
    /// <summary>The optimizer with its state after the epoch (for a checkpoint that resumes exactly).</summary>
    public ITrainingOptimizer Optimizer { get; } = optimizer;

    /// <summary>Why training stops after this epoch, if an observer asked it to.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Asks training to stop after this epoch; the first reason given is kept and reported (<see cref="TrainingOutcome.StopReason"/>).</summary>
    public void RequestStop(string reason) => StopReason ??= reason;
}

/// <summary>
/// How training reports what it does. The trainer itself writes nothing: progress bars, log files,
/// checkpoints and TensorBoard events are all observers. The long work of a run outside its epochs
/// (the test evaluation) reports through <see cref="IProgress{T}.Report"/>.
/// </summary>
public interface ITrainingObserver : IProgress<WorkProgress>
{
    /// <summary>Called once before the first epoch, with where training starts.</summary>
    void TrainingStarted(TrainingStart start) { }
    /// <summary>Called before each epoch (1-based <paramref name="epoch"/> of <paramref name="epochs"/>).</summary>
    void EpochStarted(int epoch, int epochs, int stepsPerEpoch) { }
    /// <summary>Called after every optimizer step, with the epoch's figures so far.</summary>
    void StepCompleted(StepProgress progress) { }
    /// <summary>Called after each epoch's validation; the place to log, save checkpoints or ask to stop.</summary>
    void EpochCompleted(EpochEnd epoch) { }
    /// <summary>A one-line note for the user (data being decoded, a stop, a resume).</summary>
    void Message(string text) { }
    void IProgress<WorkProgress>.Report(WorkProgress progress) { }
}

/// <summary>An observer that ignores everything: training with no output.</summary>
public sealed class SilentObserver : ITrainingObserver
{
    /// <summary>The one instance (it holds nothing).</summary>
    public static readonly SilentObserver Instance = new();
}

/// <summary>Several observers as one, each told in order.</summary>
public sealed class Observers(params IReadOnlyList<ITrainingObserver> all) : ITrainingObserver
{
    /// <inheritdoc/>
    public void TrainingStarted(TrainingStart start) { foreach (var o in all) o.TrainingStarted(start); }
    /// <inheritdoc/>
    public void EpochStarted(int epoch, int epochs, int stepsPerEpoch) { foreach (var o in all) o.EpochStarted(epoch, epochs, stepsPerEpoch); }
    /// <inheritdoc/>
    public void StepCompleted(StepProgress progress) { foreach (var o in all) o.StepCompleted(progress); }
    /// <inheritdoc/>
    public void EpochCompleted(EpochEnd epoch) { foreach (var o in all) o.EpochCompleted(epoch); }
    /// <inheritdoc/>
    public void Message(string text) { foreach (var o in all) o.Message(text); }
    /// <inheritdoc/>
    public void Report(WorkProgress progress) { foreach (var o in all) o.Report(progress); }
}

/// <summary>`--early-stop N`: stops once N epochs in a row brought no better validation accuracy.</summary>
public sealed class EarlyStopping(int patience) : ITrainingObserver
{
    /// <summary>Asks to stop when the best validation accuracy is <c>patience</c> or more epochs old.</summary>
    public void EpochCompleted(EpochEnd epoch)
    {
        int sinceBest = epoch.State.Epoch - epoch.State.BestEpoch;
        if (epoch.State.BestEpoch > 0 && sinceBest >= patience)
            epoch.RequestStop($"no better validation accuracy for {DisplayFormat.Count(sinceBest, "epoch")} (best {epoch.State.BestValAccuracy:P2} at epoch {epoch.State.BestEpoch})");
    }
}

/// <summary>`--time-limit MINUTES`: stops when the next epoch, as slow per unit of work as the slowest so far, would end
/// past the budget. An epoch's work is <paramref name="epochCost"/> (1 by default; the share of the full-size pixels
/// under progressive resizing, whose small first epochs would otherwise make the first full-size one look about half
/// as long as it is).</summary>
public sealed class TimeLimit(double minutes, int epochs, Func<int, double>? epochCost = null) : ITrainingObserver
{
    readonly Func<int, double> cost = epochCost ?? (_ => 1);
    double elapsedSeconds;
    double slowestSecondsPerCost;

    /// <summary>Adds the epoch's time, and asks to stop when the next epoch would end past the limit.</summary>
    public void EpochCompleted(EpochEnd epoch)
    {
        if (StopsAfter(epoch.State.Epoch, epoch.Metrics.Seconds))
            epoch.RequestStop(string.Create(CultureInfo.InvariantCulture,
                $"another epoch would end past the time limit of {minutes:0.##} min ({elapsedSeconds / 60:0.0} min of training so far)"));
    }

    /// <summary>Adds <paramref name="epoch"/>'s <paramref name="seconds"/>; whether the epoch after it would end past the limit.</summary>
    public bool StopsAfter(int epoch, double seconds)
    {
        elapsedSeconds += seconds;
        slowestSecondsPerCost = Math.Max(slowestSecondsPerCost, seconds / cost(epoch));
        return epoch < epochs && elapsedSeconds + slowestSecondsPerCost * cost(epoch + 1) > minutes * 60;
    }
}
