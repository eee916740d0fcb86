namespace Cifar10.Reporting;

// Plain data handed to the reporting layer. Nothing here depends on TorchSharp, so reports can be
// produced (and tested) from numbers alone. Accuracies are fractions in 0..1; reports show percentages.

/// <summary>One row of metrics.csv. ValLoss/ValAccuracy are NaN when the run has no validation set.
/// ImagesPerSecond is the epoch's training throughput, everything included; StepImagesPerSecond counts only the
/// time spent in the optimizer steps (forward, loss, backward, update), so the ratio of the two is the data
/// pipeline's and bookkeeping's overhead, measured within one run. ResidentMiB is the process's resident
/// memory at the end of the epoch (it should stay flat).</summary>
public sealed record EpochMetrics(
    int Epoch,
    double LearningRate,
    double TrainLoss,
    double TrainAccuracy,
    double ValLoss,
    double ValAccuracy,
    double Seconds,
    double ImagesPerSecond,
    double StepImagesPerSecond = double.NaN,
    double ResidentMiB = double.NaN);

/// <summary>A test image with the model's verdict. <paramref name="Chw"/> holds 3*32*32 bytes laid out as in
/// the CIFAR binary files: all red rows, then all green rows, then all blue rows.</summary>
public sealed record SampleImage(byte[] Chw, int TrueLabel, int PredictedLabel, double Confidence)
{
    public const int Side = 32;
    public const int ByteCount = 3 * Side * Side;

    public bool IsCorrect => TrueLabel == PredictedLabel;
}

/// <summary>Everything <see cref="RunReport"/> needs to describe one finished training run.</summary>
public sealed record RunReportData(
    string RunName,
    IReadOnlyList<KeyValuePair<string, string>> Config,
    IReadOnlyList<EpochMetrics> Epochs,
    IReadOnlyList<(long Step, double LearningRate)> LearningRates,
    IReadOnlyList<string> ClassNames,
    int[,] Confusion,
    double TestAccuracy,
    IReadOnlyList<SampleImage> Samples,
    IReadOnlyList<SampleImage> ConfidentlyWrong,
    string TestMeasurement = "",
    string? TensorBoardFolder = null);

/// <summary>One trial of a hyper-parameter sweep. <paramref name="Settings"/> holds the values of the swept
/// settings for this trial, in order; <paramref name="RunDir"/> is where its report.html lives.
/// <paramref name="TestAccuracy"/> is null when the trial was not evaluated on the test set.</summary>
internal sealed record SweepTrial(
    string Name,
    IReadOnlyList<KeyValuePair<string, string>> Settings,
    string RunDir,
    IReadOnlyList<EpochMetrics> Epochs,
    double? TestAccuracy,
    double Seconds);
