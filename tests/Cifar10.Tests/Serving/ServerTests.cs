using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Cifar10.Export;
using Cifar10.Models;
using Cifar10.Prediction;
using Cifar10.Serving;
using Cifar10.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using SkiaSharp;
using Xunit;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Tests.Serving;

/// <summary>A classifier whose answers are known: the brightest channel wins (red, green, blue).
/// It can be slowed down, to make concurrent requests meet in one batch.</summary>
sealed class ColourClassifier(TimeSpan delay = default) : IImageClassifier
{
    public IReadOnlyList<string> ClassNames { get; } = ["red", "green", "blue"];
    public int Passes;

    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        Interlocked.Increment(ref Passes);
        if (delay > TimeSpan.Zero) Thread.Sleep(delay);
        var result = new float[count * 3];
        for (int i = 0; i < count; i++)
        {
            var image = images.Slice(i * 3072, 3072).ToArray();
            var sums = Enumerable.Range(0, 3).Select(c => (float)image.Skip(c * 1024).Take(1024).Sum(b => b)).ToArray();
            float total = sums.Sum() + 1e-6f;
            for (int c = 0; c < 3; c++) result[i * 3 + c] = sums[c] / total;
        }
        return result;
    }

    public void Dispose() { }
}

static class Images
{
    public static byte[] Png(SKColor colour, int width = 40, int height = 30)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(colour);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A PNG that declares 20,000 × 20,000 pixels in a few bytes: what a decompression bomb looks like.</summary>
    public static byte[] HugePngHeader()
    {
        var png = Png(SKColors.Red);
        // IHDR's width and height follow the 8-byte signature and the chunk's length and type (its CRC
        // mended after); the size is read, and refused, before anything is decoded.
        BitConverter.GetBytes(IPAddress.HostToNetworkOrder(20_000)).CopyTo(png, 16);
        BitConverter.GetBytes(IPAddress.HostToNetworkOrder(20_000)).CopyTo(png, 20);
        BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)Crc32(png.AsSpan(12, 17)))).CopyTo(png, 29);
        return png;
    }

    static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}

public class ServerTests : IAsyncLifetime
{
    readonly ColourClassifier classifier = new(TimeSpan.FromMilliseconds(30));
    WebApplication app = null!;
    HttpClient client = null!;

    public async Task InitializeAsync()
    {
        app = PredictionServer.Build(classifier, new ServerOptions { MaxUploadBytes = 200_000, MaxBatch = 64, MaxWait = TimeSpan.FromMilliseconds(20) },
                                     builder => builder.WebHost.UseTestServer());
        await app.StartAsync();
        client = app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(content, "images", name);
        }
        return form;
    }

    static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task ImagesAreAnsweredWithTheirTopClasses()
    {
        var response = await client.PostAsync("/predict?top=2", Form(("red.png", Images.Png(SKColors.Red)), ("blue.png", Images.Png(SKColors.Blue))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = (await Json(response)).GetProperty("predictions");
        Assert.Equal(2, predictions.GetArrayLength());
        Assert.Equal("red.png", predictions[0].GetProperty("name").GetString());
        Assert.Equal("red", predictions[0].GetProperty("top")[0].GetProperty("class").GetString());
        Assert.Equal("blue", predictions[1].GetProperty("top")[0].GetProperty("class").GetString());
        Assert.Equal(2, predictions[1].GetProperty("top").GetArrayLength());
    }

    [Fact]
    public async Task OneImageCanBeTheRawBody()
    {
        var body = new ByteArrayContent(Images.Png(SKColors.Lime));
        body.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var response = await client.PostAsync("/predict", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", (await Json(response)).GetProperty("predictions")[0].GetProperty("top")[0].GetProperty("class").GetString());
    }

    [Theory]
    [InlineData("broken", HttpStatusCode.BadRequest, "broken.png: not a readable image")]
    [InlineData("truncated", HttpStatusCode.BadRequest, "truncated.png: the image is truncated or corrupt")]
    [InlineData("huge", HttpStatusCode.RequestEntityTooLarge, "huge.png: 20000×20000 pixels is larger than")]
    [InlineData("upload", HttpStatusCode.RequestEntityTooLarge, "the request is larger than")]
    [InlineData("none", HttpStatusCode.BadRequest, "no image")]
    public async Task BadRequestsGetAJsonErrorAndTheServerKeepsServing(string kind, HttpStatusCode status, string message)
    {
        var png = Images.Png(SKColors.Red);
        HttpContent content = kind switch
        {
            "broken" => Form(("broken.png", "not an image"u8.ToArray())),
            "truncated" => Form(("truncated.png", png[..(png.Length / 2)])),
            "huge" => Form(("huge.png", Images.HugePngHeader())),
            "upload" => Form(("big.png", new byte[300_000])),
            _ => new ByteArrayContent([]),
        };
        var response = await client.PostAsync("/predict", content);
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, (await Json(response)).GetProperty("error").GetString());

        var next = await client.PostAsync("/predict", Form(("red.png", png)));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task RequestsThatArriveTogetherShareForwardPasses()
    {
        int before = classifier.Passes;
        var colours = new[] { SKColors.Red, SKColors.Lime, SKColors.Blue };
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            client.PostAsync("/predict", Form(($"{i}.png", Images.Png(colours[i % 3]))))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        for (int i = 0; i < 24; i++)
            Assert.Equal(new[] { "red", "green", "blue" }[i % 3],
                         (await Json(responses[i])).GetProperty("predictions")[0].GetProperty("top")[0].GetProperty("class").GetString());
        int passes = classifier.Passes - before;
        Assert.True(passes < 24, $"24 concurrent requests took {passes} forward passes: no batching");
    }

    [Fact]
    public async Task HealthAndTheOpenApiDescriptionAndThePageAreServed()
    {
        var health = await Json(await client.GetAsync("/healthz"));
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(3, health.GetProperty("classes").GetArrayLength());
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/predict\"", openApi);
        var page = await client.GetStringAsync("/");
        Assert.Contains("<input id=\"files\" type=\"file\"", page);
    }
}

/// <summary>The ONNX Runtime backend answers as the TorchSharp one does.</summary>
[Collection(GlobalTorchState.Name)]
public class OnnxBackendTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-onnx-serve-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void AnExportedModelClassifiesLikeItsCheckpoint()
    {
        var checkpoint = Path.Combine(root, "checkpoint");
        torch.manual_seed(0);
        using (var model = ModelCatalog.Create("tutorial", new ModelOptions(Depth: 2)))
            Checkpoint.Save(checkpoint, model, null, new CheckpointState { Model = "tutorial", Depth = 2, ClassNames = TinyData.ClassNames });
        var onnx = ModelExport.Export(checkpoint, ExportFormat.Onnx);

        using var torchSide = TorchClassifier.Load(checkpoint, CPU);
        using var onnxSide = new OnnxClassifier(onnx);
        Assert.Equal(TinyData.ClassNames, onnxSide.ClassNames);
        var pixels = Enumerable.Range(0, 2 * 3072).Select(i => (byte)(i * 7 % 256)).ToArray();
        var a = torchSide.Probabilities(pixels, 2);
        var b = onnxSide.Probabilities(pixels, 2);
        Assert.Equal(20, b.Length);
        Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() < 1e-5);
    }
}
