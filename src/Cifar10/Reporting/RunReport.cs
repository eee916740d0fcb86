namespace Cifar10.Reporting;

/// <summary>Writes the plots, CSV tables and a self-contained report.html describing one training run.</summary>
public static class RunReport
{
    public const string HtmlFileName = "report.html";
    public const string SamplesFile = "samples.png";
    public const string ConfidentlyWrongFile = "confidently_wrong.png";

    /// <summary>Writes every report file into <paramref name="runDir"/> (created if missing), each atomically,
    /// and returns their full paths. Runs without validation data or without epochs are reported, not rejected.</summary>
    public static IReadOnlyList<string> Write(string runDir, RunReportData data, CancellationToken cancellation = default)
    {
        ConfusionSummary.Validate(data.Confusion, data.ClassNames);
        Directory.CreateDirectory(runDir);
        string PathOf(string name) => Path.GetFullPath(Path.Combine(runDir, name));

        var plots = new (string File, string Title, Action<string> Draw)[]
        {
            ("loss.png", "Loss per epoch", p => Plots.LossCurves(p, data.Epochs)),
            ("accuracy.png", "Accuracy per epoch", p => Plots.AccuracyCurves(p, data.Epochs)),
            ("lr.png", "Learning rate schedule", p => Plots.LearningRate(p, data.LearningRates)),
            ("confusion_matrix.png", "Confusion matrix", p => Plots.ConfusionMatrix(p, data.Confusion, data.ClassNames)),
            ("per_class_accuracy.png", "Per-class accuracy", p => Plots.PerClassAccuracy(p, data.Confusion, data.ClassNames)),
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
