using Cifar10.Reporting;

namespace Cifar10.Training;

/// <summary>One moment of an epoch, for progress bars.</summary>
public sealed record StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch,
                                  double Loss, double Accuracy, double ImagesPerSecond, double LearningRate);

/// <summary>How training reports what it is doing; the CLI draws progress bars from this.</summary>
public interface ITrainingObserver
{
    void EpochStarted(int epoch, int epochs, int stepsPerEpoch) { }
    void StepCompleted(StepProgress progress) { }
    void EpochCompleted(EpochMetrics metrics, bool isBest) { }
    void Message(string text) { }
}

public sealed class SilentObserver : ITrainingObserver
{
    public static readonly SilentObserver Instance = new();
}
