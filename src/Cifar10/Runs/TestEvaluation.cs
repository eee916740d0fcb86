using Cifar10.Data;
using Cifar10.Distributed;
using Cifar10.Evaluation;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>
/// The test set measured once per run, with the checkpoint a user would keep (the best by
/// validation accuracy, the last without a validation set), in the precision it trained in (fp32 for
/// bf16 on a CPU without bf16 instructions: <see cref="Checkpoint.LoadModel"/>) and with the run's own
/// test-time augmentation. The class probabilities are kept in the run folder
/// (<see cref="TestPredictions"/>), so `report` draws the same figures from them without the
/// network, and the report never disagrees with results.json.
/// </summary>
internal static class TestEvaluation
{
    /// <summary>Measures the test set with the run's test checkpoint and keeps its predictions in the run folder.</summary>
    /// <param name="progress">Told the images done, as "test set (CHECKPOINT, epoch N[, TTA])".</param>
    public static MeasuredTest Run(RunFolder run, TrainConfig config, Session session, IProgress<WorkProgress>? progress = null,
                                   CancellationToken cancellation = default) =>
        Run(run, run.TestCheckpoint(config), config, session, DataParallel.SingleProcess, progress, cancellation);

    /// <summary>The test set measured with <paramref name="checkpoint"/>, sharded over the ranks of <paramref name="parallel"/>;
    /// rank 0 (which alone has <paramref name="run"/>) reports the progress and keeps the predictions.</summary>
    public static MeasuredTest Run(RunFolder? run, string checkpoint, TrainConfig config, Session session, DataParallel parallel,
                                   IProgress<WorkProgress>? progress = null, CancellationToken cancellation = default)
    {
        var (model, state) = session.LoadModel(checkpoint);
        using (model)
        {
            session.CheckClassesMatch(state, checkpoint);
            var measurement = new TestMeasurement
            {
                Checkpoint = Path.GetFileName(checkpoint), CheckpointEpoch = state.Epoch, Tta = config.TestTta, TtaConfidence = config.TtaConfidence,
                ClassNames = session.ClassNames.ToArray(),
            };
            // Sharded over ranks, the evaluation runs in rounds of a batch per rank: progress only where one process measures it all.
            var shown = parallel.Size == 1 ? progress : null;
            var result = parallel.Evaluate(session.Test, config.EvalBatchSize, shard =>
                Evaluator.Evaluate(model, shard, session.Device, config.EvalBatchSize, config.TestViews, cancellation, state.Normalization,
                                   allViewsBelowConfidence: config.TtaConfidence, progress: shown, activity: $"test set ({measurement.Describe()})"));
            var measured = new MeasuredTest(result, measurement);
            if (run is not null) TestPredictions.Write(run.File(TestPredictions.FileName), measured);
            return measured;
        }
    }

    /// <summary>The test set as the run kept it, or null for a run finished before runs kept their test predictions.</summary>
    public static MeasuredTest? Kept(RunFolder run) =>
        File.Exists(run.File(TestPredictions.FileName)) ? TestPredictions.Read(run.File(TestPredictions.FileName)) : null;

    /// <summary>Throws unless <paramref name="test"/> was measured on <paramref name="images"/> (the same classes, and the
    /// same true class for every image), so that the report's sample grids show the images the figures are about.</summary>
    public static void CheckMeasuredOn(MeasuredTest test, ImageDataset images, string dataFolder)
    {
        var labels = images.Labels.cpu().data<long>().ToArray();
        bool same = test.Measurement.ClassNames.SequenceEqual(images.ClassNames)
                    && labels.Length == test.Result.Count
                    && labels.Select(l => (int)l).SequenceEqual(test.Result.TrueLabels);
        if (!same)
            throw new DataException($"the test set in {dataFolder} is not the one the run's {TestPredictions.FileName} was measured on " +
                                    $"({images.Count:N0} images vs {test.Result.Count:N0}); pass the run's --data, or --reevaluate to measure this one");
    }
}
