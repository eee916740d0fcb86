using Cifar10.Evaluation;
using Cifar10.Reporting;

namespace Cifar10.Runs;

/// <summary>Writes an evaluation as files: confusion_matrix.csv, per_class_accuracy.csv, eval.json.</summary>
public static class EvaluationFiles
{
    public const string SummaryFile = "eval.json";

    public static IReadOnlyList<string> Write(string folder, EvaluationResult result, TestTimeAugmentation tta)
    {
        var written = ConfusionTables.Write(folder, result.Confusion, result.ClassNames).ToList();
        var summary = Path.GetFullPath(Path.Combine(folder, SummaryFile));
        AtomicFile.WriteJson(summary, new { accuracy = result.Accuracy, loss = result.Loss, images = result.Count, tta });
        written.Add(summary);
        return written;
    }
}
