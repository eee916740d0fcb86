using ScottPlot;

namespace Cifar10.Reporting;

/// <summary>
/// PNG charts for training runs and sweeps, drawn with ScottPlot 5 (the image grid uses SkiaSharp directly).
/// Every method writes one PNG atomically and tolerates empty or NaN-only input by drawing an annotated,
/// empty chart, so a report always has the same set of files.
/// </summary>
public static partial class Plots
{
    private const int Width = 900;
    private const int Height = 560;

    // ScottPlot's automatic font choice lands on a serif face on some Linux systems; a sans face reads better
    // at small sizes. The first one installed wins; otherwise ScottPlot's default stays.
    private static readonly string? PreferredFont =
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans" }.FirstOrDefault(IsInstalled);

    // Fonts.GetTypeface may fall back to another family, so compare the name it actually found.
    private static bool IsInstalled(string family) =>
        string.Equals(Fonts.GetTypeface(family, bold: false, italic: false)?.FamilyName, family, StringComparison.OrdinalIgnoreCase);

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title, size: 18);
        plot.XLabel(xLabel, size: 15);
        plot.YLabel(yLabel, size: 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Legend.FontSize = 13;
        return plot;
    }

    private static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        // Applied last so that it also reaches text added after NewPlot (legend entries, labels).
        if (PreferredFont is not null) plot.Font.Set(PreferredFont);
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(width, height, ImageFormat.Png));
    }

    /// <summary>Explains an empty chart inside the chart itself, rather than leaving a blank frame.</summary>
    private static void AnnotateNoData(Plot plot, string message)
    {
        var note = plot.Add.Annotation(message, Alignment.MiddleCenter);
        note.LabelFontSize = 16;
        plot.Axes.SetLimits(0, 1, 0, 1); // instead of ScottPlot's symmetric -10..10 for empty plots
    }

    /// <summary>Major ticks only on whole numbers: epochs and categories are integers.</summary>
    private static void UseIntegerTicks(IAxis axis) =>
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

    /// <summary>Category names under the bars or cells at positions 0, 1, 2, ...; tilted when they would
    /// otherwise collide.</summary>
    private static void UseCategoryTicks(IXAxis axis, IReadOnlyList<string> names)
    {
        axis.SetTicks(names.Select((_, i) => (double)i).ToArray(), names.ToArray());
        axis.MajorTickStyle.Length = 0;
        var roughPixelsPerCategory = Width * 0.8 / Math.Max(1, names.Count);
        var roughLabelPixels = names.Select(n => n.Length).DefaultIfEmpty(0).Max() * 8.0;
        if (roughLabelPixels > roughPixelsPerCategory)
        {
            axis.TickLabelStyle.Rotation = -40;
            axis.TickLabelStyle.Alignment = Alignment.MiddleRight;
            // The axis panel does not grow to fit rotated labels by itself.
            axis.MinimumSize = 30 + (float)(roughLabelPixels * Math.Sin(40 * Math.PI / 180));
        }
    }

    /// <summary>A 0-100% bar axis with empty headroom above 100%, where value labels and the legend fit
    /// without covering bars. Ticks stop at 100 so the headroom does not read as a possible value.</summary>
    private static void UsePercentBarAxis(Plot plot, int categoryCount)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, 11).Select(i => i * 10.0).ToArray(),
            Enumerable.Range(0, 11).Select(i => (i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimits(-0.6, Math.Max(1, categoryCount) - 0.4, 0, 124);
    }

    private static Color SeriesColor(int index) => Colors.Category10[index % Colors.Category10.Length];
}
