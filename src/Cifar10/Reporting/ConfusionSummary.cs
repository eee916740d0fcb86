namespace Cifar10.Reporting;

/// <summary>Per-class figures derived from a confusion matrix of [true, predicted] counts.</summary>
/// <param name="ClassName">The class.</param>
/// <param name="Correct">Its images predicted as it.</param>
/// <param name="Total">Its images.</param>
public sealed record ClassAccuracy(string ClassName, int Correct, int Total)
{
    /// <summary>Recall of the class; NaN when the test set holds no image of it.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
}

internal static class ConfusionSummary
{
    /// <summary>Throws unless the matrix is square, matches the class names and holds no negative count,
    /// so a mismatch is reported where it happens rather than as a garbled plot.</summary>
    public static void Validate(int[,] counts, IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0)
            throw new ArgumentException("At least one class name is required.", nameof(classNames));
        if (counts.GetLength(0) != classNames.Count || counts.GetLength(1) != classNames.Count)
            throw new ArgumentException(
                $"Confusion matrix is {counts.GetLength(0)}x{counts.GetLength(1)} but there are {classNames.Count} classes.",
                nameof(counts));
        foreach (var count in counts)
            if (count < 0) throw new ArgumentException("Confusion matrix counts cannot be negative.", nameof(counts));
    }

    public static IReadOnlyList<ClassAccuracy> PerClass(int[,] counts, IReadOnlyList<string> classNames)
    {
        Validate(counts, classNames);
        return classNames.Select((name, row) =>
        {
            var total = 0;
            for (var column = 0; column < classNames.Count; column++) total += counts[row, column];
            return new ClassAccuracy(name, counts[row, row], total);
        }).ToList();
    }
}
