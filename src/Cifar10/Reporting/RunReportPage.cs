namespace Cifar10.Reporting;

/// <summary>The markup of report.html. Every value from the run passes through <see cref="Html"/>'s implicit
/// conversion, so names and config values are escaped.</summary>
internal static class RunReportPage
{
    /// <summary>The results first (accuracy, curves, confusion, per-class figures, mistakes), then the per-epoch
    /// table and the configuration, both folded: a reader comes for the results and looks the settings up.</summary>
    public static string Render(RunReportData data, IReadOnlyList<ClassAccuracy> perClass, IReadOnlyDictionary<string, Html> images)
    {
        var body = Html.Join(
            Html.Element("h1", $"CIFAR-10 run: {data.RunName}"),
            Html.Element("p", $"{DisplayFormat.Count(data.Epochs.Count, "epoch")}, {DisplayFormat.Count(perClass.Sum(c => c.Total), "test image")}", "subtitle"),
            Cards(data),
            TensorBoardLink(data.TensorBoardFolder),
            Html.Element("h2", "Training"),
            data.Epochs.Count == 0 ? Html.Element("p", "No epochs were recorded, so the training curves are empty.", "note") : Html.Empty,
            data.Epochs.Count > 0 && BestValidation.Of(data.Epochs) is null
                ? Html.Element("p", "This run has no validation set: only training curves are shown.", "note")
                : Html.Empty,
            Plots(images["loss.png"], images["accuracy.png"]),
            Html.Element("div", images["lr.png"], "wide"),
            Html.Element("h2", "Test set"),
            Plots(images["confusion_matrix.png"], images["per_class_accuracy.png"]),
            Html.Element("h3", "Accuracy per class"),
            PerClassTable(data, perClass),
            Html.Element("h3", "Confusion matrix (rows = true class, columns = predicted class)"),
            Html.Element("div", ConfusionTable(data), "scroll"),
            Html.Element("h2", "Predictions and mistakes"),
            Html.Element("div", images[RunReport.SamplesFile], "wide"),
            Html.Element("div", images[RunReport.ConfidentlyWrongFile], "wide"),
            Html.Element("h2", "Details"),
            Html.Details($"Metrics per epoch ({DisplayFormat.Count(data.Epochs.Count, "epoch")})", EpochTable(data.Epochs)),
            Html.Details("Configuration: every setting, the data and the machine",
                data.Config.Count == 0
                    ? Html.Element("p", "No configuration recorded.", "note")
                    : Html.Table(["Setting", "Value"], data.Config.Select(kv => new Html[] { kv.Key, kv.Value }))));
        return Html.Page($"CIFAR-10 run: {data.RunName}", body);
    }

    /// <summary>Where the run's TensorBoard events are, and the command that shows them.</summary>
    private static Html TensorBoardLink(string? folder) => folder is null
        ? Html.Empty
        : Html.Element("p", Html.Join("TensorBoard (per-step loss and learning rate, sample predictions, settings beside the final metrics): ",
            Html.RelativeLink(folder, folder + "/"), ", shown by ", Html.Element("code", $"tensorboard --logdir {folder}"),
            " in the run folder"), "links");

    private static Html Cards(RunReportData data)
    {
        var best = BestValidation.Of(data.Epochs);
        var last = data.Epochs.Count > 0 ? data.Epochs[^1] : null;
        var throughput = data.Epochs.Where(m => double.IsFinite(m.ImagesPerSecond)).Select(m => m.ImagesPerSecond).DefaultIfEmpty(double.NaN).Average();
        return Html.Element("div", Html.Join(
            Card("Test accuracy", DisplayFormat.Percent(data.TestAccuracy), data.TestMeasurement),
            Card("Best validation accuracy", best is null ? DisplayFormat.NotAvailable : DisplayFormat.Percent(best.Accuracy),
                best is not null ? $"epoch {best.Epoch}" : data.Epochs.Count == 0 ? "no epochs" : "no validation set"),
            Card("Final train accuracy", last is null ? DisplayFormat.NotAvailable : DisplayFormat.Percent(last.TrainAccuracy),
                last is null ? "" : $"loss {DisplayFormat.Number(last.TrainLoss)}"),
            Card("Total training time", DisplayFormat.Duration(data.Epochs.Sum(m => m.Seconds)), DisplayFormat.Count(data.Epochs.Count, "epoch")),
            Card("Throughput", double.IsFinite(throughput) ? $"{DisplayFormat.Number(throughput, "N0")} img/s" : DisplayFormat.NotAvailable, "mean over epochs")),
            "cards");
    }

    private static Html Card(string label, string value, string detail) => Html.Element("div", Html.Join(
        Html.Element("div", label, "label"), Html.Element("div", value, "value"), Html.Element("div", detail, "detail")), "card");

    private static Html Plots(params Html[] images) =>
        Html.Element("div", Html.Join(images.Select(image => Html.Element("figure", image)).ToArray()), "plots");

    private static Html PerClassTable(RunReportData data, IReadOnlyList<ClassAccuracy> perClass) =>
        Html.Table(["Class", "Correct", "Total", "Accuracy", "Most often mistaken for"],
            perClass.Select((c, row) => new Html[]
            {
                c.ClassName, DisplayFormat.Integer(c.Correct), DisplayFormat.Integer(c.Total), DisplayFormat.Percent(c.Accuracy), MostConfusedWith(data, row),
            }),
            cssClass: "numeric");

    private static string MostConfusedWith(RunReportData data, int row)
    {
        var (column, count) = (-1, 0);
        for (var c = 0; c < data.ClassNames.Count; c++)
            if (c != row && data.Confusion[row, c] > count) (column, count) = (c, data.Confusion[row, c]);
        return column < 0 ? "—" : $"{data.ClassNames[column]} ({DisplayFormat.Integer(count)})";
    }

    private static Html ConfusionTable(RunReportData data)
    {
        var names = data.ClassNames;
        return Html.Table(
            new Html[] { "true \\ predicted" }.Concat(names.Select(n => (Html)n)),
            names.Select((name, row) => new Html[] { name }.Concat(Enumerable.Range(0, names.Count).Select(column =>
            {
                Html count = DisplayFormat.Integer(data.Confusion[row, column]);
                return row == column ? Html.Element("strong", count) : count; // the diagonal holds the correct ones
            })).ToList()),
            cssClass: "numeric");
    }

    private static Html EpochTable(IReadOnlyList<EpochMetrics> epochs) => epochs.Count == 0
        ? Html.Element("p", "No epochs recorded.", "note")
        : Html.Table(["Epoch", "Learning rate", "Train loss", "Train acc", "Val loss", "Val acc", "Time", "Images/s"],
            epochs.Select(m => new Html[]
            {
                DisplayFormat.Integer(m.Epoch), DisplayFormat.Number(m.LearningRate), DisplayFormat.Number(m.TrainLoss),
                DisplayFormat.Percent(m.TrainAccuracy), DisplayFormat.Number(m.ValLoss), DisplayFormat.Percent(m.ValAccuracy),
                DisplayFormat.Duration(m.Seconds), DisplayFormat.Number(m.ImagesPerSecond, "N0"),
            }),
            cssClass: "numeric");
}
