using ScottPlot;
using SkiaSharp;

namespace Cifar10.Reporting;

public static partial class Plots
{
    private const int ImageScale = 3;                       // 32 px -> 96 px; nearest-neighbour keeps pixels crisp
    private const int GridColumns = 8;
    private const int CellWidth = 150;
    private const int CellPadding = 8;
    private const int CaptionLineHeight = 17;
    private const float CaptionFontSize = 13;
    private const int HeaderHeight = 64;
    private static readonly SKColor WrongColor = new(0xC6, 0x28, 0x28);
    private static readonly SKColor CorrectCaptionColor = new(0x22, 0x22, 0x22);

    /// <summary>
    /// The images scaled up 3x, each captioned "true / predicted (confidence%)"; wrong predictions get a red frame
    /// and a red caption. Drawn with SkiaSharp directly since there is nothing to plot on axes.
    /// </summary>
    public static void ImageGrid(string path, IReadOnlyList<SampleImage> samples, IReadOnlyList<string> classNames, string title)
    {
        const int imageSide = SampleImage.Side * ImageScale;
        const int cellHeight = imageSide + 2 * CaptionLineHeight + 2 * CellPadding;
        var columns = Math.Clamp(samples.Count, 1, GridColumns);
        var rows = (samples.Count + columns - 1) / columns;
        var width = Math.Max(columns * CellWidth, 480); // wide enough for the header text
        var height = HeaderHeight + Math.Max(rows * cellHeight, 8);

        var typeface = Fonts.GetTypeface(PreferredFont ?? Fonts.Default, bold: false, italic: false);
        var boldTypeface = Fonts.GetTypeface(PreferredFont ?? Fonts.Default, bold: true, italic: false);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);

        using var textPaint = new SKPaint { IsAntialias = true, Color = CorrectCaptionColor };
        using (var titleFont = new SKFont(boldTypeface, 19))
            canvas.DrawText(title, width / 2f, 26, SKTextAlign.Center, titleFont, textPaint);
        using (var noteFont = new SKFont(typeface, 13))
        {
            var note = samples.Count == 0
                ? "No images to show"
                : "Caption: true class / predicted class (confidence). Red = wrong prediction.";
            canvas.DrawText(note, width / 2f, 50, SKTextAlign.Center, noteFont, textPaint);
        }

        using var captionFont = new SKFont(typeface, CaptionFontSize);
        using var framePaint = new SKPaint { Color = WrongColor, Style = SKPaintStyle.Stroke, StrokeWidth = 4 };
        var nearest = new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None);
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = samples[i];
            var left = (i % columns) * CellWidth + (CellWidth - imageSide) / 2f;
            var top = HeaderHeight + (i / columns) * cellHeight + CellPadding;
            var imageRect = SKRect.Create(left, top, imageSide, imageSide);
            using (var image = ToSkImage(sample.Chw))
                canvas.DrawImage(image, imageRect, nearest);
            if (!sample.IsCorrect) canvas.DrawRect(Inflate(imageRect, 3), framePaint);

            textPaint.Color = sample.IsCorrect ? CorrectCaptionColor : WrongColor;
            var centre = (i % columns) * CellWidth + CellWidth / 2f;
            var lines = CaptionLines(sample, classNames, captionFont, CellWidth - 6);
            for (var line = 0; line < lines.Length; line++)
                canvas.DrawText(lines[line], centre, top + imageSide + 6 + (line + 1) * CaptionLineHeight - 4,
                    SKTextAlign.Center, captionFont, textPaint);
        }

        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, png.ToArray());
    }

    /// <summary>"true / pred (97%)" on one line when it fits the cell, otherwise broken after the slash.</summary>
    private static string[] CaptionLines(SampleImage sample, IReadOnlyList<string> classNames, SKFont font, float maxWidth)
    {
        var trueName = ClassName(sample.TrueLabel, classNames);
        var predicted = $"{ClassName(sample.PredictedLabel, classNames)} ({DisplayFormat.Percent(sample.Confidence, decimals: 0)})";
        var oneLine = $"{trueName} / {predicted}";
        return font.MeasureText(oneLine) <= maxWidth ? [oneLine] : [trueName + " /", predicted];
    }

    private static string ClassName(int label, IReadOnlyList<string> classNames) =>
        label >= 0 && label < classNames.Count ? classNames[label] : $"#{label}";

    /// <summary>Converts CIFAR's planar layout (all R, then all G, then all B) to an interleaved RGBA image.</summary>
    private static SKImage ToSkImage(byte[] chw)
    {
        if (chw.Length != SampleImage.ByteCount)
            throw new ArgumentException($"A sample image needs {SampleImage.ByteCount} bytes (3x32x32) but has {chw.Length}.", nameof(chw));
        const int plane = SampleImage.Side * SampleImage.Side;
        var rgba = new byte[plane * 4];
        for (var p = 0; p < plane; p++)
        {
            rgba[4 * p] = chw[p];
            rgba[4 * p + 1] = chw[plane + p];
            rgba[4 * p + 2] = chw[2 * plane + p];
            rgba[4 * p + 3] = 255;
        }
        var info = new SKImageInfo(SampleImage.Side, SampleImage.Side, SKColorType.Rgba8888, SKAlphaType.Opaque);
        return SKImage.FromPixelCopy(info, rgba);
    }

    private static SKRect Inflate(SKRect rect, float by) =>
        new(rect.Left - by, rect.Top - by, rect.Right + by, rect.Bottom + by);
}
