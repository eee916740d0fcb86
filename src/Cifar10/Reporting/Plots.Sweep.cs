using ScottPlot;

namespace Cifar10.Reporting;

public static partial class Plots
{
    /// <summary>Validation accuracy per epoch of several runs on one chart (one line per sweep trial).</summary>
    public static void OverlaidValidationCurves(string path, IReadOnlyList<(string Label, IReadOnlyList<EpochMetrics> Epochs)> runs)
    {
        var plot = NewPlot("Validation accuracy per epoch", "Epoch", "Validation accuracy (%)");
        UseIntegerTicks(plot.Axes.Bottom);
        var drawn = runs.Select((run, i) => AddEpochSeries(plot, run.Epochs, m => m.ValAccuracy * 100, run.Label, SeriesColor(i)))
            .Count(wasDrawn => wasDrawn);
        if (drawn == 0) AnnotateNoData(plot, "No validation accuracy recorded");
        else plot.ShowLegend(Alignment.LowerRight);
        Save(plot, path);
    }

    /// <summary>
    /// Best validation accuracy and test accuracy (percent) for each value of a swept setting, as grouped bars
    /// on a categorical x axis, so values may be numbers or words. NaN accuracies leave their bar out.
    /// </summary>
    public static void AccuracyVersusValue(string path, string settingName,
        IReadOnlyList<(string Value, double BestValAccuracy, double TestAccuracy)> results)
    {
        var plot = NewPlot($"Accuracy versus {settingName}", settingName, "Accuracy (%)");
        AddGroupedBars(plot, results.Select(r => r.BestValAccuracy).ToList(), offset: -0.2, "Best validation", SeriesColor(0));
        AddGroupedBars(plot, results.Select(r => r.TestAccuracy).ToList(), offset: +0.2, "Test", SeriesColor(1));
        if (results.Count == 0)
        {
            AnnotateNoData(plot, "No trials");
        }
        else
        {
            UseCategoryTicks(plot.Axes.Bottom, results.Select(r => r.Value).ToList());
            plot.ShowLegend(Alignment.UpperRight);
        }
        UsePercentBarAxis(plot, results.Count);
        Save(plot, path);
    }

    /// <summary>
    /// Test accuracy (percent) against wall time (minutes) of finished runs, one marker per run and one colour per
    /// series (a recipe, or a recipe on another engine): where time-to-accuracy comparisons are read at a glance.
    /// </summary>
    public static void AccuracyVersusTime(string path, IReadOnlyList<(string Label, IReadOnlyList<(double Minutes, double Accuracy)> Runs)> series)
    {
        var plot = NewPlot("Test accuracy against wall time", "Wall time (minutes)", "Test accuracy (%)");
        int drawn = 0;
        foreach (var (entry, i) in series.Select((entry, i) => (entry, i)))
        {
            var runs = entry.Runs.Where(r => double.IsFinite(r.Minutes) && double.IsFinite(r.Accuracy)).ToList();
            if (runs.Count == 0) continue;
            var markers = plot.Add.Scatter(runs.Select(r => r.Minutes).ToArray(), runs.Select(r => r.Accuracy * 100).ToArray(), SeriesColor(i));
            markers.LegendText = entry.Label;
            markers.LineWidth = 0; // separate runs: nothing lies between them
            markers.MarkerSize = 10;
            drawn++;
        }
        if (drawn == 0) AnnotateNoData(plot, "No finished runs");
        else plot.ShowLegend(Alignment.LowerRight);
        Save(plot, path);
    }

    private static void AddGroupedBars(Plot plot, IReadOnlyList<double> fractions, double offset, string legend, Color color)
    {
        var bars = fractions
            .Select((fraction, i) => (fraction, i))
            .Where(b => double.IsFinite(b.fraction))
            .Select(b => new Bar
            {
                Position = b.i + offset,
                Value = b.fraction * 100,
                Label = DisplayFormat.Percent(b.fraction, decimals: 1),
                FillColor = color,
                Size = 0.38,
            }).ToArray();
        if (bars.Length == 0) return;
        var barPlot = plot.Add.Bars(bars);
        barPlot.LegendText = legend;
        barPlot.ValueLabelStyle.FontSize = 11;
    }
}
