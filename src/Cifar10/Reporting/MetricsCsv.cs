namespace Cifar10.Reporting;

/// <summary>metrics.csv: one row of <see cref="EpochMetrics"/> per epoch. Numbers round-trip exactly, NaN included
/// (runs without a validation set write NaN in the val columns).</summary>
internal static class MetricsCsv
{
    public const string Header = "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s,step_images_per_s,rss_mib";

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

    /// <summary>Headers of earlier versions of this file; they still read, their missing columns as NaN.</summary>
    static readonly string[] EarlierHeaders =
    [
        "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s",
        "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s,rss_mib",
    ];

    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        var header = File.ReadLines(path).FirstOrDefault() ?? "";
        if (!EarlierHeaders.Contains(header)) header = Header; // anything else must be the current header
        var columns = header.Split(',');
        return Csv.ReadNumericRows(path, header, fields =>
        {
            double Column(string name) => Array.IndexOf(columns, name) is var i and >= 0 ? Csv.ParseDouble(fields[i]) : double.NaN;
            return new EpochMetrics(
                Epoch: checked((int)Csv.ParseLong(fields[0])),
                LearningRate: Column("lr"),
                TrainLoss: Column("train_loss"),
                TrainAccuracy: Column("train_acc"),
                ValLoss: Column("val_loss"),
                ValAccuracy: Column("val_acc"),
                Seconds: Column("seconds"),
                ImagesPerSecond: Column("images_per_s"),
                StepImagesPerSecond: Column("step_images_per_s"),
                ResidentMiB: Column("rss_mib"));
        });
    }

    private static string FormatRow(EpochMetrics m) => Csv.Line([
        Csv.Number(m.Epoch), Csv.Number(m.LearningRate), Csv.Number(m.TrainLoss), Csv.Number(m.TrainAccuracy),
        Csv.Number(m.ValLoss), Csv.Number(m.ValAccuracy), Csv.Number(m.Seconds), Csv.Number(m.ImagesPerSecond),
        Csv.Number(m.StepImagesPerSecond), Csv.Number(m.ResidentMiB)]);
}
