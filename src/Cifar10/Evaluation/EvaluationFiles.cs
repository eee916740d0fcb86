using System.Globalization;
using System.Text;
using System.Text.Json;
using Cifar10.Training;

namespace Cifar10.Evaluation;

/// <summary>Writes an evaluation as files: confusion_matrix.csv, per_class_accuracy.csv, eval.json.</summary>
public static class EvaluationFiles
{
    public static IReadOnlyList<string> Write(string folder, EvaluationResult result)
    {
        Directory.CreateDirectory(folder);
        var confusion = Path.Combine(folder, "confusion_matrix.csv");
        var perClass = Path.Combine(folder, "per_class_accuracy.csv");
        var summary = Path.Combine(folder, "eval.json");
        WriteAtomically(confusion, ConfusionCsv(result.Confusion, result.ClassNames));
        WriteAtomically(perClass, PerClassCsv(result.Confusion, result.ClassNames));
        WriteAtomically(summary, JsonSerializer.Serialize(new { accuracy = result.Accuracy, loss = result.Loss, images = result.Count }, TrainConfig.Json));
        return [confusion, perClass, summary];
    }

    /// <summary>Rows are true classes, columns predicted classes.</summary>
    public static string ConfusionCsv(int[,] counts, IReadOnlyList<string> classNames)
    {
        var text = new StringBuilder();
        text.AppendLine("true\\predicted," + string.Join(",", classNames));
        for (int t = 0; t < classNames.Count; t++)
        {
            text.Append(classNames[t]);
            for (int p = 0; p < classNames.Count; p++) text.Append(',').Append(counts[t, p].ToString(CultureInfo.InvariantCulture));
            text.AppendLine();
        }
        return text.ToString();
    }

    public static string PerClassCsv(int[,] counts, IReadOnlyList<string> classNames)
    {
        var text = new StringBuilder("class,correct,total,accuracy\n");
        for (int c = 0; c < classNames.Count; c++)
        {
            int total = 0;
            for (int p = 0; p < classNames.Count; p++) total += counts[c, p];
            double accuracy = total == 0 ? double.NaN : counts[c, c] / (double)total;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{classNames[c]},{counts[c, c]},{total},{accuracy:R}"));
        }
        return text.ToString();
    }

    static void WriteAtomically(string path, string contents)
    {
        var temporary = path + ".writing";
        File.WriteAllText(temporary, contents);
        File.Move(temporary, path, overwrite: true);
    }
}
