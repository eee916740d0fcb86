using Cifar10.Reporting;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>
/// Writes what training reports into its run folder: after every epoch a row of metrics.csv, the
/// learning rate of every step to lr.csv, TensorBoard events (each step's loss and learning rate,
/// each epoch's figures), then the checkpoints (last, and best when validation accuracy improved).
/// Logs first, checkpoint last: a run killed in between redoes that epoch on resume, and
/// <see cref="RunFolder.TruncateLogs"/> drops the rows written for it. Once the test set is measured,
/// <see cref="RunFinished"/> adds the test figures, sample predictions and the run's settings
/// (TensorBoard's hparams) to the events.
/// </summary>
public sealed class RunFolderObserver(RunFolder run) : ITrainingObserver
{
    /// <summary>The tags of the final metrics, which TensorBoard's hparams table shows beside the settings.</summary>
    public static readonly IReadOnlyList<string> MetricTags = ["test/accuracy", "test/loss", "validation/best_accuracy"];

    TensorBoardEvents? tensorBoard;
    DateTimeOffset started;

    /// <summary>Drops the log rows of epochs a resumed run redoes and opens the TensorBoard events.</summary>
    public void TrainingStarted(TrainingStart start)
    {
        run.TruncateLogs(start.FirstEpoch - 1, start.FirstStep);
        tensorBoard = new TensorBoardEvents(run.File(RunFolder.TensorBoardFolder));
        started = DateTimeOffset.Now;
    }

    /// <summary>Logs the step's loss and learning rate to TensorBoard.</summary>
    public void StepCompleted(StepProgress p)
    {
        if (tensorBoard is null) return;
        long step = (long)(p.Epoch - 1) * p.StepsPerEpoch + p.Step - 1; // the step's index, as lr.csv numbers it
        if (double.IsFinite(p.StepLoss)) tensorBoard.Scalar("step/loss", p.StepLoss, step);
        tensorBoard.Scalar("step/learning_rate", p.LearningRate, step);
    }

    /// <summary>Appends the epoch to metrics.csv, lr.csv and TensorBoard, then saves <c>last/</c> (and <c>best/</c> when the epoch is the best).</summary>
    public void EpochCompleted(EpochEnd epoch)
    {
        var metrics = epoch.Metrics;
        MetricsCsv.Append(run.File(RunFolder.MetricsFile), metrics);
        LearningRateCsv.Append(run.File(RunFolder.LearningRateFile), epoch.LearningRates);
        WriteTensorBoard(metrics);

        Checkpoint.Save(run.Last, epoch.Model, epoch.Optimizer, epoch.State);
        if (epoch.IsBest) Checkpoint.Save(run.Best, epoch.Model, null, epoch.State);
        run.CommitReplacement(); // the new run has a checkpoint now: the one it replaced can go
    }

    /// <summary>
    /// The end of the run in TensorBoard, at its last epoch: the test figures and the best validation accuracy,
    /// the report's sample predictions as images, and every setting of <paramref name="config"/> but the
    /// machine's with those figures (the hparams plugin), so that runs side by side compare by setting.
    /// </summary>
    public void RunFinished(TrainConfig config, RunResults results, IReadOnlyList<(string Tag, string PngFile)> images)
    {
        if (tensorBoard is null) return;
        int lastStep = results.EpochsCompleted;
        tensorBoard.Scalar(MetricTags[0], results.TestAccuracy, lastStep);
        tensorBoard.Scalar(MetricTags[1], results.TestLoss, lastStep);
        if (!double.IsNaN(results.BestValAccuracy)) tensorBoard.Scalar(MetricTags[2], results.BestValAccuracy, lastStep);
        foreach (var (tag, png) in images)
            if (File.Exists(png)) tensorBoard.Image(tag, File.ReadAllBytes(png), lastStep);
        var settings = TrainSettings.All.Where(s => !s.DescribesMachine)
            .Select(s => new KeyValuePair<string, object?>(s.Name, HParamValue(s, config))).ToList();
        tensorBoard.HParams(settings, MetricTags, started, DateTimeOffset.Now);
        tensorBoard.Flush();
    }

    /// <summary>Numbers and flags as themselves, everything else (names, lists) as the text the option takes.</summary>
    static object? HParamValue(Setting setting, TrainConfig config) => setting.Value(config) switch
    {
        null => null,
        var value and (bool or int or long or double) => value,
        _ => setting.Format(config),
    };

    void WriteTensorBoard(EpochMetrics metrics)
    {
        if (tensorBoard is null) return;
        tensorBoard.Scalar("loss/train", metrics.TrainLoss, metrics.Epoch);
        tensorBoard.Scalar("accuracy/train", metrics.TrainAccuracy, metrics.Epoch);
        if (!double.IsNaN(metrics.ValAccuracy))
        {
            tensorBoard.Scalar("loss/validation", metrics.ValLoss, metrics.Epoch);
            tensorBoard.Scalar("accuracy/validation", metrics.ValAccuracy, metrics.Epoch);
        }
        tensorBoard.Scalar("learning_rate", metrics.LearningRate, metrics.Epoch);
        tensorBoard.Scalar("images_per_second", metrics.ImagesPerSecond, metrics.Epoch);
        tensorBoard.Flush();
    }
}
