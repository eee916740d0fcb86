namespace Cifar10.Reporting;

/// <summary>lr.csv: the learning rate at each optimizer step, so schedules (warm-up, one-cycle, cosine) can be
/// plotted at step resolution rather than once per epoch.</summary>
internal static class LearningRateCsv
{
    public const string Header = "step,lr";

    /// <summary>Adds rows, first writing the header if the file does not exist yet (or is empty). Callers
    /// typically buffer an epoch's steps and append them together.</summary>
    public static void Append(string path, IEnumerable<(long Step, double LearningRate)> steps)
    {
        var isNew = !File.Exists(path) || new FileInfo(path).Length == 0;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.AppendAllText(path, (isNew ? Header + "\n" : "") + Rows(steps));
    }

    /// <summary>Replaces <paramref name="path"/> with the given rows, atomically.</summary>
    public static void Write(string path, IEnumerable<(long Step, double LearningRate)> steps) =>
        AtomicFile.WriteAllText(path, Header + "\n" + Rows(steps));

    public static IReadOnlyList<(long Step, double LearningRate)> Read(string path) =>
        Csv.ReadNumericRows(path, Header, f => (Csv.ParseLong(f[0]), Csv.ParseDouble(f[1])));

    static string Rows(IEnumerable<(long Step, double LearningRate)> steps) =>
        string.Concat(steps.Select(s => Csv.Line([Csv.Number(s.Step), Csv.Number(s.LearningRate)])));
}
