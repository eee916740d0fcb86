using Cifar10.Distributed;
using Cifar10.Evaluation;
using Cifar10.Training;

namespace Cifar10.Runs;

/// <summary>
/// The test set measured once per run, with the checkpoint a user would keep (the best by
/// validation accuracy, the last without a validation set), in the precision it trained in and
/// with the run's own test-time augmentation: at the end of training and in `report` alike, so the
/// report never disagrees with results.json.
/// </summary>
public static class TestEvaluation
{
    public static EvaluationResult Run(RunFolder run, TrainConfig config, Session session, CancellationToken cancellation = default) =>
        Run(run.TestCheckpoint(config), config, session, DataParallel.SingleProcess, cancellation);

    /// <summary>The test set measured with <paramref name="checkpoint"/>, sharded over the ranks of <paramref name="parallel"/>.</summary>
    public static EvaluationResult Run(string checkpoint, TrainConfig config, Session session, DataParallel parallel, CancellationToken cancellation = default)
    {
        var (model, state) = session.LoadModel(checkpoint);
        using (model)
        {
            session.CheckClassesMatch(state, checkpoint);
            return parallel.Evaluate(session.Test, config.EvalBatchSize, shard =>
                Evaluator.Evaluate(model, shard, session.Device, config.EvalBatchSize, config.TestViews, cancellation, state.Normalization,
                                   allViewsBelowConfidence: config.TtaConfidence));
        }
    }
}
