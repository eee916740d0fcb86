using Cifar10.Reporting;
using Cifar10.Training;
using TorchSharp;

namespace Cifar10.Runs;

/// <summary>
/// Writes what training reports into its run folder: after every epoch a row of metrics.csv, the
/// learning rate of every step to lr.csv, TensorBoard events, then the checkpoints (last, and best
/// when validation accuracy improved). Logs first, checkpoint last: a run killed in between redoes
/// that epoch on resume, and <see cref="RunFolder.TruncateLogs"/> drops the rows written for it.
/// </summary>
public sealed class RunFolderObserver(RunFolder run) : ITrainingObserver
{
    TorchSharp.Modules.SummaryWriter? tensorBoard;

    public void TrainingStarted(TrainingStart start)
    {
        run.TruncateLogs(start.FirstEpoch - 1, start.FirstStep);
        tensorBoard = torch.utils.tensorboard.SummaryWriter(run.File(RunFolder.TensorBoardFolder));
    }

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

    void WriteTensorBoard(EpochMetrics metrics)
    {
        if (tensorBoard is null) return;
        tensorBoard.add_scalar("loss/train", (float)metrics.TrainLoss, metrics.Epoch);
        tensorBoard.add_scalar("accuracy/train", (float)metrics.TrainAccuracy, metrics.Epoch);
        if (!double.IsNaN(metrics.ValAccuracy))
        {
            tensorBoard.add_scalar("loss/validation", (float)metrics.ValLoss, metrics.Epoch);
            tensorBoard.add_scalar("accuracy/validation", (float)metrics.ValAccuracy, metrics.Epoch);
        }
        tensorBoard.add_scalar("learning_rate", (float)metrics.LearningRate, metrics.Epoch);
        tensorBoard.add_scalar("images_per_second", (float)metrics.ImagesPerSecond, metrics.Epoch);
    }
}
