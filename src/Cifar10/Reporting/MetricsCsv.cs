namespace Cifar10.Reporting;

/// <summary>metrics.csv: one row of <see cref="EpochMetrics"/> per epoch. Numbers round-trip exactly, NaN included
/// (runs without a validation set write NaN in the val columns).</summary>
public static class MetricsCsv
{
    public const string Header = "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s,rss_mib";

    /// <summary>Replaces <paramref name="path"/> with the given rows, atomically.</summary>
    public static void Write(string path, IEnumerable<EpochMetrics> epochs) =>
        AtomicFile.WriteAllText(path, Header + "\n" + string.Concat(epochs.Select(FormatRow)));

    /// <summary>Adds one row, first writing the header if the file does not exist yet (or is empty). Meant to be
    /// called after every epoch so progress survives a crash; the row goes out in a single write.</summary>
    public static void Append(string path, EpochMetrics epoch)
    {
        var isNew = !File.Exists(path) || new FileInfo(path).Length == 0;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.AppendAllText(path, (isNew ? Header + "\n" : "") + FormatRow(epoch));
    }

    public static IReadOnlyList<EpochMetrics> Read(string path) =>
        Csv.ReadNumericRows(path, Header).Select(fields => new EpochMetrics(
            Epoch: checked((int)Csv.ParseLong(fields[0])),
            LearningRate: Csv.ParseDouble(fields[1]),
            TrainLoss: Csv.ParseDouble(fields[2]),
            TrainAccuracy: Csv.ParseDouble(fields[3]),
            ValLoss: Csv.ParseDouble(fields[4]),
            ValAccuracy: Csv.ParseDouble(fields[5]),
            Seconds: Csv.ParseDouble(fields[6]),
            ImagesPerSecond: Csv.ParseDouble(fields[7]),
            ResidentMiB: Csv.ParseDouble(fields[8]))).ToList();

    private static string FormatRow(EpochMetrics m) => Csv.Line([
        Csv.Number(m.Epoch), Csv.Number(m.LearningRate), Csv.Number(m.TrainLoss), Csv.Number(m.TrainAccuracy),
        Csv.Number(m.ValLoss), Csv.Number(m.ValAccuracy), Csv.Number(m.Seconds), Csv.Number(m.ImagesPerSecond), Csv.Number(m.ResidentMiB)]);
}
