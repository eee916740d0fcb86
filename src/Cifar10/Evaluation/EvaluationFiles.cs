using System.Text.Json;
using Cifar10.Reporting;
using Cifar10.Training;

namespace Cifar10.Evaluation;

/// <summary>Writes an evaluation as files: confusion_matrix.csv, per_class_accuracy.csv, eval.json.</summary>
public static class EvaluationFiles
{
    public const string SummaryFile = "eval.json";

    public static IReadOnlyList<string> Write(string folder, EvaluationResult result, TestTimeAugmentation tta)
    {
        var written = ConfusionTables.Write(folder, result.Confusion, result.ClassNames).ToList();
        var summary = Path.GetFullPath(Path.Combine(folder, SummaryFile));
        var temporary = summary + ".writing";
        File.WriteAllText(temporary, JsonSerializer.Serialize(
            new { accuracy = result.Accuracy, loss = result.Loss, images = result.Count, tta = tta.ToString() }, TrainConfig.Json));
        File.Move(temporary, summary, overwrite: true);
        written.Add(summary);
        return written;
    }
}
