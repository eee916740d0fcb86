namespace Cifar10.Reporting;

// Plain data handed to the reporting layer. Nothing here depends on TorchSharp, so reports can be
// produced (and tested) from numbers alone. Accuracies are fractions in 0..1; reports show percentages.

/// <summary>One row of metrics.csv. ValLoss/ValAccuracy are NaN when the run has no validation set.
/// ImagesPerSecond is the epoch's training throughput, everything included; StepImagesPerSecond counts only the
/// time spent in the optimizer steps (forward, loss, backward, update), so the ratio of the two is the data
/// pipeline's and bookkeeping's overhead, measured within one run. ResidentMiB is the process's resident
/// memory at the end of the epoch (it should stay flat).</summary>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="TrainLoss">The mean training loss over the epoch (augmented images, training mode).</param>
/// <param name="TrainAccuracy">The training accuracy over the epoch, 0 to 1.</param>
/// <param name="ValLoss">The validation loss after the epoch.</param>
/// <param name="ValAccuracy">The validation accuracy after the epoch, 0 to 1.</param>
/// <param name="Seconds">The epoch's time, validation included.</param>
/// <param name="ImagesPerSecond">Training images per second over the whole epoch.</param>
/// <param name="StepImagesPerSecond">Training images per second over the optimizer steps alone.</param>
/// <param name="ResidentMiB">The process's resident memory at the end of the epoch, in MiB.</param>
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
/// <param name="Chw">The image's bytes.</param>
/// <param name="TrueLabel">Its true class.</param>
/// <param name="PredictedLabel">The class the network predicted.</param>
/// <param name="Confidence">The network's probability of its prediction.</param>
public sealed record SampleImage(byte[] Chw, int TrueLabel, int PredictedLabel, double Confidence)
{
    /// <summary>The side of a sample image in pixels.</summary>
    public const int Side = 32;
    /// <summary>The bytes of one sample image.</summary>
    public const int ByteCount = 3 * Side * Side;

    /// <summary>Whether the prediction is right (a wrong one is framed red in the grids).</summary>
    public bool IsCorrect => TrueLabel == PredictedLabel;
}

/// <summary>Everything <see cref="RunReport"/> needs to describe one finished training run.</summary>
/// <param name="RunName">The run's name, the page's title.</param>
/// <param name="Config">The settings and what the run depended on, shown as a table in this order.</param>
/// <param name="Epochs">Every epoch's figures (the curves).</param>
/// <param name="LearningRates">Every step's learning rate.</param>
/// <param name="ClassNames">The class names, in label order.</param>
/// <param name="Confusion">[true, predicted] counts on the test set.</param>
/// <param name="TestAccuracy">The test accuracy, 0 to 1.</param>
/// <param name="Samples">Test images with their predictions (e.g. the first 32).</param>
/// <param name="ConfidentlyWrong">The most confident wrong predictions, most confident first.</param>
/// <param name="TestMeasurement">How the test set was measured, e.g. "best, epoch 12, TTA".</param>
/// <param name="TensorBoardFolder">The run's TensorBoard events, relative to the report; null when it has none.</param>
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
