using ScottPlot;

namespace Cifar10.Reporting;

public static partial class Plots
{
    /// <summary>
    /// Heatmap of [true, predicted] counts: rows are true classes (first class at the top), columns are predicted
    /// classes, and every cell shows its count.
    /// </summary>
    public static void ConfusionMatrix(string path, int[,] counts, IReadOnlyList<string> classNames)
    {
        ConfusionSummary.Validate(counts, classNames);
        var n = classNames.Count;
        var plot = NewPlot("Confusion matrix (rows = true class, columns = predicted class)",
            "Predicted class (columns)", "True class (rows)");

        var intensities = new double[n, n];
        var largest = 1;
        for (var row = 0; row < n; row++)
            for (var column = 0; column < n; column++)
            {
                intensities[row, column] = counts[row, column];
                largest = Math.Max(largest, counts[row, column]);
            }

        // ScottPlot draws intensities[0, *] as the top row. Cells are centred on whole numbers, so true class r
        // sits at y = n-1-r and predicted class c at x = c.
        var heatmap = plot.Add.Heatmap(intensities);
        // ScottPlot's Blues runs dark to light; reversed, empty cells are white and the diagonal stands out dark.
        heatmap.Colormap = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues());
        heatmap.Extent = new CoordinateRect(0, n - 1, 0, n - 1);
        heatmap.ManualRange = new ScottPlot.Range(0, largest);
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "Images";

        var cellFontSize = n <= 12 ? 14 : n <= 20 ? 10 : 7;
        for (var row = 0; row < n; row++)
            for (var column = 0; column < n; column++)
            {
                var label = plot.Add.Text(counts[row, column].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    column, n - 1 - row);
                label.Alignment = Alignment.MiddleCenter;
                label.LabelFontSize = cellFontSize;
                label.LabelBold = row == column;
                label.LabelFontColor = ReadableTextColor(heatmap.Colormap.GetColor((double)counts[row, column] / largest));
            }

        UseCategoryTicks(plot.Axes.Bottom, classNames);
        var reversed = classNames.Reverse().ToArray();
        plot.Axes.Left.SetTicks(reversed.Select((_, i) => (double)i).ToArray(), reversed);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        Save(plot, path, Width, Width - 60);
    }

    /// <summary>Black text on light cells, white on dark ones, judged by perceived brightness.</summary>
    private static Color ReadableTextColor(Color background) =>
        0.299 * background.R + 0.587 * background.G + 0.114 * background.B > 140 ? Colors.Black : Colors.White;

    /// <summary>Bars of per-class accuracy (recall) in percent, with the overall accuracy as a reference line.</summary>
    public static void PerClassAccuracy(string path, int[,] counts, IReadOnlyList<string> classNames)
    {
        var perClass = ConfusionSummary.PerClass(counts, classNames);
        var plot = NewPlot("Test accuracy per class", "True class", "Accuracy (%)");
        var bars = perClass.Select((c, i) => new Bar
        {
            Position = i,
            Value = double.IsNaN(c.Accuracy) ? 0 : c.Accuracy * 100,
            Label = DisplayFormat.Percent(c.Accuracy, decimals: 1), // "n/a" for a class with no test images
            FillColor = SeriesColor(0),
            Size = 0.7,
        }).ToArray();
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 12;

        var total = perClass.Sum(c => c.Total);
        if (total > 0)
        {
            var overall = (double)perClass.Sum(c => c.Correct) / total;
            var reference = plot.Add.HorizontalLine(overall * 100, width: 2, SeriesColor(3), LinePattern.Dashed);
            reference.LegendText = $"Overall: {DisplayFormat.Percent(overall)}";
            plot.ShowLegend(Alignment.UpperLeft);
        }
        else
        {
            AnnotateNoData(plot, "The confusion matrix is empty");
        }

        UseCategoryTicks(plot.Axes.Bottom, classNames);
        UsePercentBarAxis(plot, classNames.Count);
        Save(plot, path);
    }
}
