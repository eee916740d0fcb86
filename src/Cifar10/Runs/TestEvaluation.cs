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
    public static EvaluationResult Run(RunFolder run, TrainConfig config, Session session, CancellationToken cancellation = default)
    {
        var checkpoint = run.TestCheckpoint(config);
        var (model, state) = session.LoadModel(checkpoint);
        using (model)
        {
            session.CheckClassesMatch(state, checkpoint);
            return Evaluator.Evaluate(model, session.Test, session.Device, config.EvalBatchSize, config.TestViews, cancellation, state.Normalization,
                                      allViewsBelowConfidence: config.TtaConfidence);
        }
    }
}
