using System.Text.Json;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Tests.Data;
using Cifar10.Training;
using SkiaSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Cli;

/// <summary>The first images of the CIFAR-10 test set, written as PNG files (lossless): what `eval` reads, as a user's files.</summary>
internal static class TestSetPngs
{
    public sealed record Image(string Path, int Label, byte[] Pixels);

    public static IReadOnlyList<Image> Write(string folder, int count)
    {
        const int record = 1 + 3 * 32 * 32;
        var bytes = new byte[count * record];
        using (var file = File.OpenRead(System.IO.Path.Combine(RealData.Folder, "test_batch.bin")))
            file.ReadExactly(bytes);
        var images = new List<Image>();
        for (int i = 0; i < count; i++)
        {
            var pixels = bytes.AsSpan(i * record + 1, record - 1).ToArray();
            using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            var rgba = bitmap.GetPixelSpan();
            for (int p = 0; p < 1024; p++)
            {
                rgba[4 * p] = pixels[p];
                rgba[4 * p + 1] = pixels[1024 + p];
                rgba[4 * p + 2] = pixels[2048 + p];
                rgba[4 * p + 3] = 255;
            }
            var path = System.IO.Path.Combine(folder, $"test-{i:D4}.png");
            using (var png = bitmap.Encode(SKEncodedImageFormat.Png, 100)) File.WriteAllBytes(path, png.ToArray());
            images.Add(new Image(path, bytes[i * record], pixels));
        }
        return images;
    }
}

/// <summary>`predict` sees the pixels `eval` sees: a test image written as a PNG file gets the class and the
/// probability that the evaluation of the test set gives it.</summary>
[Collection(GlobalTorchState.Name)]
public class PredictMatchesEvalTests(FinishedRunFixture finished) : IClassFixture<FinishedRunFixture>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-predict-eval-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void PredictOnTestImagesWrittenAsPngAgreesWithEvalImageForImage()
    {
        var images = TestSetPngs.Write(root, 64);
        var predicted = Cli.Run(["predict", "--checkpoint", finished.Run, "--json", "--top", "1", .. images.Select(i => i.Path)]);
        Assert.True(predicted.Code == 0, predicted.Err);
        var answers = predicted.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("top")[0]).ToList();

        // What eval computes for the same images, as the data set holds them.
        var (model, state) = Checkpoint.LoadModel(finished.Run, CPU);
        using var _ = model;
        using var data = new ImageDataset(tensor(images.SelectMany(i => i.Pixels).ToArray(), dtype: uint8).reshape(images.Count, 3, 32, 32),
                                          tensor(images.Select(i => (long)i.Label).ToArray()), state.ClassNames);
        var evaluated = Evaluator.Evaluate(model, data, CPU, normalization: state.Normalization);

        Assert.Equal(images.Count, answers.Count);
        for (int i = 0; i < images.Count; i++)
        {
            Assert.Equal(state.ClassNames[evaluated.Predictions[i]], answers[i].GetProperty("class").GetString());
            Assert.Equal(evaluated.Confidences[i], answers[i].GetProperty("probability").GetDouble(), tolerance: 2e-6); // predict rounds to 6 decimals
        }
    }
}
