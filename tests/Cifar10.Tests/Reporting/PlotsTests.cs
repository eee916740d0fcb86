using Cifar10.Reporting;
using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Reporting;

public class PlotsTests
{
    [Fact]
    public void ImageGridShowsTheImagesInTheirTrueColoursScaledUp()
    {
        using var directory = new TempDirectory();
        // Planar layout: the red plane first, then green, then blue. A swapped plane would change the colour.
        var chw = new byte[SampleImage.ByteCount];
        Array.Fill(chw, (byte)10, 0, 1024);
        Array.Fill(chw, (byte)200, 1024, 1024);
        Array.Fill(chw, (byte)30, 2048, 1024);
        var path = directory.Combine("grid.png");
        Plots.ImageGrid(path, [new SampleImage(chw, 0, 0, 0.9)], SyntheticReportData.ClassNames, "One image");

        using var bitmap = ReportAssert.ValidPngFile(path);
        var matching = 0;
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) == new SKColor(10, 200, 30)) matching++;
        Assert.Equal(96 * 96, matching); // 32x32 scaled 3x with nearest-neighbour: every pixel keeps its exact colour
    }

    [Fact]
    public void ImageGridRejectsImagesOfTheWrongSize()
    {
        using var directory = new TempDirectory();
        Assert.Throws<ArgumentException>(() => Plots.ImageGrid(directory.Combine("grid.png"),
            [new SampleImage(new byte[32 * 32], 0, 0, 1)], SyntheticReportData.ClassNames, "bad"));
    }

    [Fact]
    public void LearningRateFinderDrawsCurvesAndDegenerateInput()
    {
        using var directory = new TempDirectory();
        var points = Enumerable.Range(0, 60)
            .Select(i => (Lr: Math.Pow(10, -6 + i / 10.0), Loss: 2.3 - Math.Tanh(i / 20.0) + (i > 50 ? (i - 50) * 0.5 : 0)))
            .Append((1e-3, double.NaN)) // a diverged step must be skipped, not crash the plot
            .ToList();
        Plots.LearningRateFinder(directory.Combine("finder.png"), points, suggested: 3e-3);
        Plots.LearningRateFinder(directory.Combine("narrow.png"), [(0.01, 2.0), (0.02, 1.8), (0.04, 1.9)], suggested: 0.02);
        Plots.LearningRateFinder(directory.Combine("empty.png"), [], suggested: double.NaN);
        foreach (var name in new[] { "finder.png", "narrow.png", "empty.png" })
            ReportAssert.ValidPngFile(directory.Combine(name));
    }

    [Fact]
    public void SweepPlotsAcceptWordsMissingValuesAndNoRuns()
    {
        using var directory = new TempDirectory();
        Plots.AccuracyVersusValue(directory.Combine("words.png"), "optimizer",
            [("sgd", 0.91, 0.9), ("adamw", 0.89, double.NaN), ("lion", double.NaN, 0.85)]);
        Plots.AccuracyVersusValue(directory.Combine("none.png"), "optimizer", []);
        Plots.OverlaidValidationCurves(directory.Combine("curves.png"),
            [("with val", SyntheticReportData.Epochs(5, true, new Random(1))), ("no val", SyntheticReportData.Epochs(5, false, new Random(2)))]);
        Plots.OverlaidValidationCurves(directory.Combine("no-curves.png"), []);
        Plots.AccuracyVersusTime(directory.Combine("time.png"),
            [("muon", [(34.9, 0.9075), (double.NaN, 0.9)]), ("airbench94", [(44.0, 0.9072)]), ("unfinished", [])]);
        Plots.AccuracyVersusTime(directory.Combine("no-time.png"), []);
        foreach (var name in new[] { "words.png", "none.png", "curves.png", "no-curves.png", "time.png", "no-time.png" })
            ReportAssert.ValidPngFile(directory.Combine(name));
    }

    [Fact]
    public void ConfusionPlotsHandleAClassWithNoTestImages()
    {
        using var directory = new TempDirectory();
        var counts = new int[3, 3] { { 5, 1, 0 }, { 0, 0, 0 }, { 2, 0, 7 } };
        string[] names = ["a", "b", "c"];
        Plots.ConfusionMatrix(directory.Combine("cm.png"), counts, names);
        Plots.PerClassAccuracy(directory.Combine("pc.png"), counts, names);
        ReportAssert.ValidPngFile(directory.Combine("cm.png"));
        ReportAssert.ValidPngFile(directory.Combine("pc.png"));
    }
}
