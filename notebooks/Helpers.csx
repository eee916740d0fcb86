// What the notebooks share to show things: PNG files and images inline, and training progress as it happens.
// Loaded by each notebook (#load "Helpers.csx") after it references Cifar10.Core; everything else they do is the
// library's API.
#nullable enable
using System.IO;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Reporting;
using Cifar10.Training;
using SkiaSharp;
using TorchSharp;

/// <summary>A PNG file (the library's plots write them) in the cell's output.</summary>
static void ShowPng(string path) =>
    $"<img src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\" style=\"max-width: 100%\">"
        .DisplayAs("text/html");

/// <summary>The first <paramref name="perClass"/> images of each class, a row per class, enlarged with their
/// pixels kept sharp.</summary>
static void ShowImages(ImageDataset images, int perClass)
{
    var labels = images.Labels.data<long>().ToArray();
    var html = new System.Text.StringBuilder("<table>");
    for (int label = 0; label < images.ClassNames.Count; label++)
    {
        var chosen = Enumerable.Range(0, labels.Length).Where(i => labels[i] == label).Take(perClass).ToArray();
        html.Append($"<tr><th style=\"text-align: right\">{images.ClassNames[label]}</th>");
        foreach (var chw in ImageBytes(images, chosen))
            html.Append($"<td><img src=\"data:image/png;base64,{Convert.ToBase64String(Png(chw))}\" " +
                        "style=\"width: 64px; image-rendering: pixelated\"></td>");
        html.Append("</tr>");
    }
    html.Append("</table>").ToString().DisplayAs("text/html");
}

/// <summary>Test images with the network's verdicts, as the library's reports draw them (wrong ones framed red).</summary>
static IReadOnlyList<SampleImage> Samples(EvaluationResult result, ImageDataset images, IEnumerable<int> indices)
{
    var chosen = indices.ToArray();
    return ImageBytes(images, chosen)
        .Select((chw, k) => new SampleImage(chw, result.TrueLabels[chosen[k]], result.Predictions[chosen[k]], result.Confidences[chosen[k]]))
        .ToList();
}

/// <summary>Each chosen image's 3x32x32 bytes, channel by channel as in the CIFAR files.</summary>
static IEnumerable<byte[]> ImageBytes(ImageDataset images, int[] indices)
{
    if (indices.Length == 0) return [];
    using var scope = torch.NewDisposeScope();
    var bytes = images.Images.index_select(0, torch.tensor(indices.Select(i => (long)i).ToArray())).contiguous().data<byte>().ToArray();
    return indices.Select((_, k) => bytes[(k * SampleImage.ByteCount)..((k + 1) * SampleImage.ByteCount)]).ToList();
}

static byte[] Png(byte[] chw)
{
    const int side = SampleImage.Side, plane = side * side;
    var rgba = new byte[plane * 4];
    for (int p = 0; p < plane; p++)
        (rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2], rgba[4 * p + 3]) = (chw[p], chw[plane + p], chw[2 * plane + p], 255);
    using var image = SKImage.FromPixelCopy(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
    using var png = image.Encode(SKEncodedImageFormat.Png, 100);
    return png.ToArray();
}

/// <summary>Training as it goes: a line four times an epoch (unless <paramref name="steps"/> is false) and one at its
/// end (printed lines read the same in every notebook front end), and each epoch's figures kept for the plots.</summary>
class Progress(bool steps = true) : ITrainingObserver
{
    public List<EpochMetrics> Epochs { get; } = new();
    public List<(long Step, double LearningRate)> LearningRates { get; } = new();
    public EpochEnd? Last { get; private set; }

    public void StepCompleted(StepProgress p)
    {
        int quarter = Math.Max(1, p.StepsPerEpoch / 4);
        if (steps && p.Step % quarter == 0 && p.Step < p.StepsPerEpoch)
            Console.WriteLine($"  epoch {p.Epoch}/{p.Epochs}, step {p.Step}/{p.StepsPerEpoch}: loss {p.Loss:F3}, accuracy {DisplayFormat.Percent(p.Accuracy, 1)}, {p.ImagesPerSecond:F0} images/s");
    }

    public void EpochCompleted(EpochEnd e)
    {
        var m = e.Metrics;
        Epochs.Add(m);
        LearningRates.AddRange(e.LearningRates);
        Last = e;
        Console.WriteLine($"epoch {m.Epoch}: train loss {m.TrainLoss:F3}, accuracy {DisplayFormat.Percent(m.TrainAccuracy, 1)}; " +
                          $"validation loss {m.ValLoss:F3}, accuracy {DisplayFormat.Percent(m.ValAccuracy, 1)}; {m.Seconds:F0} s");
    }

    public void Message(string text) => Console.WriteLine(text);
}
