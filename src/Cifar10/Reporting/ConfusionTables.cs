using System.Globalization;

namespace Cifar10.Reporting;

/// <summary>The confusion matrix and per-class accuracy as CSV files; `eval` and run reports
/// both write them this way.</summary>
internal static class ConfusionTables
{
    public const string ConfusionFile = "confusion_matrix.csv";
    public const string PerClassFile = "per_class_accuracy.csv";

    /// <summary>Writes both files (atomically) into <paramref name="folder"/> and returns their full paths.</summary>
    public static IReadOnlyList<string> Write(string folder, int[,] counts, IReadOnlyList<string> classNames)
    {
        ConfusionSummary.Validate(counts, classNames);
        Directory.CreateDirectory(folder);
        var confusion = Path.GetFullPath(Path.Combine(folder, ConfusionFile));
        var perClass = Path.GetFullPath(Path.Combine(folder, PerClassFile));
        // Rows are true classes, columns predicted classes.
        AtomicFile.WriteAllText(confusion, Csv.Document(new[] { "true\\predicted" }.Concat(classNames),
            classNames.Select((name, row) => new[] { name }.Concat(
                Enumerable.Range(0, classNames.Count).Select(column => counts[row, column].ToString(CultureInfo.InvariantCulture))))));
        AtomicFile.WriteAllText(perClass, Csv.Document(["class", "correct", "total", "accuracy"],
            ConfusionSummary.PerClass(counts, classNames)
                .Select(c => new[] { c.ClassName, Csv.Number(c.Correct), Csv.Number(c.Total), Csv.Number(c.Accuracy) })));
        return [confusion, perClass];
    }
}
