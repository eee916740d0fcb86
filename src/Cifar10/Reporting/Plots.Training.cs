using ScottPlot;

namespace Cifar10.Reporting;

public static partial class Plots
{
    /// <summary>Train and validation loss per epoch.</summary>
    public static void LossCurves(string path, IReadOnlyList<EpochMetrics> epochs) =>
        TrainVersusValidation(path, epochs, "Loss per epoch", "Loss", m => m.TrainLoss, m => m.ValLoss,
            highlightBest: false);

    /// <summary>Train and validation accuracy per epoch, in percent, with the best validation epoch marked.</summary>
    public static void AccuracyCurves(string path, IReadOnlyList<EpochMetrics> epochs) =>
        TrainVersusValidation(path, epochs, "Accuracy per epoch", "Accuracy (%)",
            m => m.TrainAccuracy * 100, m => m.ValAccuracy * 100, highlightBest: true);

    private static void TrainVersusValidation(string path, IReadOnlyList<EpochMetrics> epochs, string title,
        string yLabel, Func<EpochMetrics, double> train, Func<EpochMetrics, double> validation, bool highlightBest)
    {
        var plot = NewPlot(title, "Epoch", yLabel);
        UseIntegerTicks(plot.Axes.Bottom);
        var anyTrain = AddEpochSeries(plot, epochs, train, "Train", SeriesColor(0));
        var validated = epochs.Where(m => double.IsFinite(validation(m))).ToList();
        AddEpochSeries(plot, validated, validation, "Validation", SeriesColor(1));

        if (highlightBest && validated.Count > 0)
        {
            var best = validated.MaxBy(validation)!;
            var marker = plot.Add.Marker(best.Epoch, validation(best), MarkerShape.OpenCircle, size: 16, SeriesColor(1));
            marker.LegendText = $"Best validation: {DisplayFormat.Number(validation(best), "F2")}% (epoch {best.Epoch})";
        }

        if (!anyTrain && validated.Count == 0) AnnotateNoData(plot, "No epochs recorded");
        else if (validated.Count == 0) plot.Title(title + " (no validation set)");
        // Loss falls and accuracy rises, so these corners are the ones the curves usually leave empty.
        plot.ShowLegend(highlightBest ? Alignment.LowerRight : Alignment.UpperRight);
        Save(plot, path);
    }

    /// <summary>Adds one line with a marker per epoch; skips non-finite values. Returns whether anything was drawn.</summary>
    private static bool AddEpochSeries(Plot plot, IEnumerable<EpochMetrics> epochs, Func<EpochMetrics, double> value,
        string legend, Color color)
    {
        var points = epochs.Where(m => double.IsFinite(value(m))).ToList();
        if (points.Count == 0) return false;
        var line = plot.Add.Scatter(points.Select(m => (double)m.Epoch).ToArray(), points.Select(value).ToArray(), color);
        line.LegendText = legend;
        line.LineWidth = 2;
        line.MarkerSize = points.Count > 60 ? 0 : 6; // markers turn into a smear on long runs
        return true;
    }

    /// <summary>The learning rate at every optimizer step (the schedule as actually applied).</summary>
    public static void LearningRate(string path, IReadOnlyList<(long Step, double LearningRate)> steps)
    {
        var plot = NewPlot("Learning rate schedule", "Optimizer step", "Learning rate");
        var points = steps.Where(s => double.IsFinite(s.LearningRate)).ToList();
        if (points.Count == 0)
        {
            AnnotateNoData(plot, "No learning-rate steps recorded");
        }
        else
        {
            var line = plot.Add.ScatterLine(points.Select(s => (double)s.Step).ToArray(),
                points.Select(s => s.LearningRate).ToArray(), SeriesColor(0));
            line.LineWidth = 2;
            line.LegendText = "Learning rate";
            plot.ShowLegend(Alignment.UpperRight);
        }
        Save(plot, path);
    }

    /// <summary>
    /// Loss against learning rate from an LR range test, on a log10 x axis, with the suggested learning rate as a
    /// dashed vertical line whose value appears in the legend.
    /// </summary>
    public static void LearningRateFinder(string path, IReadOnlyList<(double Lr, double Loss)> points, double suggested)
    {
        var plot = NewPlot("Learning rate finder", "Learning rate (log scale)", "Training loss");
        var usable = points.Where(p => p.Lr > 0 && double.IsFinite(p.Lr) && double.IsFinite(p.Loss)).ToList();
        if (usable.Count == 0)
        {
            AnnotateNoData(plot, "No learning-rate finder points recorded");
            Save(plot, path);
            return;
        }
        var decades = Math.Log10(usable.Max(p => p.Lr)) - Math.Log10(usable.Min(p => p.Lr));
        UseLog10Ticks(plot.Axes.Bottom, onlyWholeDecades: decades >= 2);

        // ScottPlot 5 has no logarithmic axis: plot log10(lr) and label the ticks with 10^x.
        var line = plot.Add.ScatterLine(usable.Select(p => Math.Log10(p.Lr)).ToArray(),
            usable.Select(p => p.Loss).ToArray(), SeriesColor(0));
        line.LineWidth = 2;
        line.LegendText = "Loss";

        if (suggested > 0 && double.IsFinite(suggested))
        {
            var suggestion = plot.Add.VerticalLine(Math.Log10(suggested), width: 2, SeriesColor(3), LinePattern.Dashed);
            suggestion.LegendText = $"Suggested lr = {DisplayFormat.Number(suggested, "G3")}";
            var nearest = usable.MinBy(p => Math.Abs(Math.Log10(p.Lr) - Math.Log10(suggested)));
            plot.Add.Marker(Math.Log10(suggested), nearest.Loss, MarkerShape.FilledCircle, size: 11, SeriesColor(3));
        }
        else
        {
            plot.Title("Learning rate finder (no suggestion)");
        }

        // The loss usually explodes at the largest rates; clip that tail so it does not flatten the useful part.
        var lowest = usable.Min(p => p.Loss);
        var highest = usable.Max(p => p.Loss);
        var top = Math.Min(highest, Math.Max(usable[0].Loss, lowest) * 1.5);
        var margin = Math.Max((top - lowest) * 0.08, 1e-6);
        plot.Axes.SetLimitsY(lowest - margin, top + margin);
        plot.ShowLegend(Alignment.UpperLeft);
        Save(plot, path);
    }

    private static void UseLog10Ticks(IAxis axis, bool onlyWholeDecades) =>
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            // Labels at 10^k read best; a range narrower than two decades needs the in-between ticks too.
            IntegerTicksOnly = onlyWholeDecades,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = PowerOfTenLabel,
        };

    /// <summary>"0.001", "0.1", "10" for moderate values; "1e-5" style beyond that, which stays short.</summary>
    private static string PowerOfTenLabel(double log10)
    {
        var exponent = Math.Round(log10);
        if (Math.Abs(log10 - exponent) < 1e-9 && Math.Abs(exponent) > 3)
            return "1e" + exponent.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Math.Pow(10, log10).ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
    }
}
