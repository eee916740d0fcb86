namespace Cifar10.Reporting;

/// <summary>Writes the plots, CSV tables and a self-contained report.html describing one training run.</summary>
public static class RunReport
{
    /// <summary>The report page, self-contained (its plots embedded).</summary>
    public const string HtmlFileName = "report.html";
    /// <summary>The grid of sample test images with their predictions.</summary>
    public const string SamplesFile = "samples.png";
    /// <summary>The grid of the most confident mistakes.</summary>
    public const string ConfidentlyWrongFile = "confidently_wrong.png";
    const string LossFile = "loss.png", AccuracyFile = "accuracy.png", LearningRateFile = "lr.png",
                 ConfusionFile = "confusion_matrix.png", PerClassFile = "per_class_accuracy.png";

    /// <summary>Every file <see cref="Write"/> writes (a run folder holds them beside its records).</summary>
    public static IReadOnlyList<string> FileNames { get; } =
    [
        LossFile, AccuracyFile, LearningRateFile, ConfusionFile, PerClassFile, SamplesFile, ConfidentlyWrongFile,
        ConfusionTables.ConfusionFile, ConfusionTables.PerClassFile, HtmlFileName,
    ];

    /// <summary>Writes every report file into <paramref name="runDir"/> (created if missing), each atomically,
    /// and returns their full paths. Runs without validation data or without epochs are reported, not rejected.</summary>
    public static IReadOnlyList<string> Write(string runDir, RunReportData data, CancellationToken cancellation = default)
    {
        ConfusionSummary.Validate(data.Confusion, data.ClassNames);
        Directory.CreateDirectory(runDir);
        string PathOf(string name) => Path.GetFullPath(Path.Combine(runDir, name));

        var plots = new (string File, string Title, Action<string> Draw)[]
        {
            (LossFile, "Loss per epoch", p => Plots.LossCurves(p, data.Epochs)),
            (AccuracyFile, "Accuracy per epoch", p => Plots.AccuracyCurves(p, data.Epochs)),
            (LearningRateFile, "Learning rate schedule", p => Plots.LearningRate(p, data.LearningRates)),
            (ConfusionFile, "Confusion matrix", p => Plots.ConfusionMatrix(p, data.Confusion, data.ClassNames)),
            (PerClassFile, "Per-class accuracy", p => Plots.PerClassAccuracy(p, data.Confusion, data.ClassNames)),
            (SamplesFile, "Sample test predictions", p => Plots.ImageGrid(p, data.Samples, data.ClassNames, "Sample test predictions")),
            (ConfidentlyWrongFile, "Most confident wrong predictions",
                p => Plots.ImageGrid(p, data.ConfidentlyWrong, data.ClassNames, "Most confident wrong predictions")),
        };
        var written = new List<string>();
        foreach (var plot in plots)
        {
            cancellation.ThrowIfCancellationRequested();
            plot.Draw(PathOf(plot.File));
            written.Add(PathOf(plot.File));
        }

        var perClass = ConfusionSummary.PerClass(data.Confusion, data.ClassNames);
        written.AddRange(ConfusionTables.Write(runDir, data.Confusion, data.ClassNames));

        var images = plots.ToDictionary(p => p.File, p => Html.EmbeddedPng(PathOf(p.File), p.Title));
        AtomicFile.WriteAllText(PathOf(HtmlFileName), RunReportPage.Render(data, perClass, images));
        written.Add(PathOf(HtmlFileName));
        return written;
    }
}
