using System.Globalization;
using Cifar10.Reporting;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>Where training starts: at <see cref="FirstEpoch"/> (1 for a new run, later when resumed).</summary>
public sealed record TrainingStart(int FirstEpoch, int Epochs, int StepsPerEpoch, long FirstStep, int TrainCount, int ValidationCount)
{
    public bool Resumed => FirstEpoch > 1 || FirstStep > 0;
}

/// <summary>One moment of an epoch, for progress bars: <see cref="Loss"/> and <see cref="Accuracy"/> over
/// the epoch so far, <see cref="StepLoss"/> the loss of this step's batch alone.</summary>
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
    public EpochMetrics Metrics { get; } = metrics;
    public bool IsBest { get; } = isBest;
    public IReadOnlyList<(long Step, double LearningRate)> LearningRates { get; } = learningRates;
    public CheckpointState State { get; } = state;
    public nn.Module<Tensor, Tensor> Model { get; } = model;
    public ITrainingOptimizer Optimizer { get; } = optimizer;

    /// <summary>Why training stops after this epoch, if an observer asked it to.</summary>
    public string? StopReason { get; private set; }

    public void RequestStop(string reason) => StopReason ??= reason;
}

/// <summary>
/// How training reports what it does. The trainer itself writes nothing: progress bars, log files,
/// checkpoints and TensorBoard events are all observers. The long work of a run outside its epochs
/// (the test evaluation) reports through <see cref="IProgress{T}.Report"/>.
/// </summary>
public interface ITrainingObserver : IProgress<WorkProgress>
{
    void TrainingStarted(TrainingStart start) { }
    void EpochStarted(int epoch, int epochs, int stepsPerEpoch) { }
    void StepCompleted(StepProgress progress) { }
    void EpochCompleted(EpochEnd epoch) { }
    void Message(string text) { }
    void IProgress<WorkProgress>.Report(WorkProgress progress) { }
}

public sealed class SilentObserver : ITrainingObserver
{
    public static readonly SilentObserver Instance = new();
}

/// <summary>Several observers as one, each told in order.</summary>
public sealed class Observers(params IReadOnlyList<ITrainingObserver> all) : ITrainingObserver
{
    public void TrainingStarted(TrainingStart start) { foreach (var o in all) o.TrainingStarted(start); }
    public void EpochStarted(int epoch, int epochs, int stepsPerEpoch) { foreach (var o in all) o.EpochStarted(epoch, epochs, stepsPerEpoch); }
    public void StepCompleted(StepProgress progress) { foreach (var o in all) o.StepCompleted(progress); }
    public void EpochCompleted(EpochEnd epoch) { foreach (var o in all) o.EpochCompleted(epoch); }
    public void Message(string text) { foreach (var o in all) o.Message(text); }
    public void Report(WorkProgress progress) { foreach (var o in all) o.Report(progress); }
}

/// <summary>`--early-stop N`: stops once N epochs in a row brought no better validation accuracy.</summary>
public sealed class EarlyStopping(int patience) : ITrainingObserver
{
    public void EpochCompleted(EpochEnd epoch)
    {
        int sinceBest = epoch.State.Epoch - epoch.State.BestEpoch;
        if (epoch.State.BestEpoch > 0 && sinceBest >= patience)
            epoch.RequestStop($"no better validation accuracy for {DisplayFormat.Count(sinceBest, "epoch")} (best {epoch.State.BestValAccuracy:P2} at epoch {epoch.State.BestEpoch})");
    }
}

/// <summary>`--time-limit MINUTES`: stops when another epoch, as long as the longest so far, would end past the budget.</summary>
public sealed class TimeLimit(double minutes, int epochs) : ITrainingObserver
{
    double elapsedSeconds;
    double longestEpochSeconds;

    public void EpochCompleted(EpochEnd epoch)
    {
        elapsedSeconds += epoch.Metrics.Seconds;
        longestEpochSeconds = Math.Max(longestEpochSeconds, epoch.Metrics.Seconds);
        if (epoch.State.Epoch < epochs && elapsedSeconds + longestEpochSeconds > minutes * 60)
            epoch.RequestStop(string.Create(CultureInfo.InvariantCulture,
                $"another epoch would end past the time limit of {minutes:0.##} min ({elapsedSeconds / 60:0.0} min of training so far)"));
    }
}
