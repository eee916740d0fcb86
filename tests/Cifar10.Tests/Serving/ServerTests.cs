using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Cifar10.Export;
using Cifar10.Onnx;
using Google.Protobuf;
using Cifar10.Models;
using Cifar10.Prediction;
using Cifar10.Serving;
using Cifar10.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
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

/// <summary>Answers NaN for an all-black image, as a diverged network would; the colours otherwise.</summary>
sealed class NaNForBlackClassifier : IImageClassifier
{
    readonly ColourClassifier colours = new();
    public IReadOnlyList<string> ClassNames => colours.ClassNames;

    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        var result = colours.Probabilities(images, count);
        for (int i = 0; i < count; i++)
            if (!images.Span.Slice(i * 3072, 3072).ContainsAnyExcept((byte)0))
                result.AsSpan(i * 3, 3).Fill(float.NaN);
        return result;
    }

    public void Dispose() { }
}

/// <summary>Gives <paramref name="outputs"/> probabilities per image for its 3 class names: a state.json that names other classes than its network has.</summary>
sealed class WrongWidthClassifier(int outputs, float value = 0.5f) : IImageClassifier
{
    public IReadOnlyList<string> ClassNames { get; } = ["red", "green", "blue"];
    public float[] Probabilities(ReadOnlyMemory<byte> images, int count) => Enumerable.Repeat(value, count * outputs).ToArray();
    public void Dispose() { }
}

/// <summary>Records the size of every forward pass.</summary>
sealed class RecordingClassifier : IImageClassifier
{
    readonly ColourClassifier colours = new();
    public readonly System.Collections.Concurrent.ConcurrentQueue<int> Batches = new();
    public IReadOnlyList<string> ClassNames => colours.ClassNames;

    public float[] Probabilities(ReadOnlyMemory<byte> images, int count)
    {
        Batches.Enqueue(count);
        return colours.Probabilities(images, count);
    }

    public void Dispose() { }
}

/// <summary>A server on a test host (no socket), its log lines kept.</summary>
sealed class TestHost : IAsyncDisposable
{
    readonly StringWriter log = new();
    public WebApplication App { get; }
    public HttpClient Client { get; }

    public TestHost(IImageClassifier classifier, ServerOptions options)
    {
        App = PredictionServer.Build(classifier, options, builder =>
        {
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders().AddProvider(new OneLineLogger(log));
        });
        App.StartAsync().GetAwaiter().GetResult();
        Client = App.GetTestClient();
    }

    public async Task<JsonElement> Health() => JsonDocument.Parse(await Client.GetStringAsync("/healthz")).RootElement;

    /// <summary>The server's log, line by line, as standard error would show it.</summary>
    public IReadOnlyList<string> Log
    {
        get { lock (log) return log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries); }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

internal static class Images
{
    public static byte[] Png(SKColor colour, int width = 40, int height = 30)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(colour);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A large PNG of one colour, written directly (Skia takes seconds to compress millions of pixels).</summary>
    public static byte[] SolidPng(int width, int height, byte red = 255, byte green = 0, byte blue = 0)
    {
        var row = new byte[1 + 3 * width]; // filter byte 0, then RGB
        for (int x = 0; x < width; x++) (row[1 + 3 * x], row[2 + 3 * x], row[3 + 3 * x]) = (red, green, blue);
        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            for (int y = 0; y < height; y++) zlib.Write(row);
        var header = new byte[13];
        BitConverter.GetBytes(IPAddress.HostToNetworkOrder(width)).CopyTo(header, 0);
        BitConverter.GetBytes(IPAddress.HostToNetworkOrder(height)).CopyTo(header, 4);
        header[8] = 8; // bits per channel; colour type 2 (RGB) and the rest 0
        header[9] = 2;
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        foreach (var (type, data) in new[] { ("IHDR", header), ("IDAT", compressed.ToArray()), ("IEND", Array.Empty<byte>()) })
        {
            var chunk = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            png.Write(BitConverter.GetBytes(IPAddress.HostToNetworkOrder(data.Length)));
            png.Write(chunk);
            png.Write(BitConverter.GetBytes(IPAddress.HostToNetworkOrder((int)Crc32(chunk))));
        }
        return png.ToArray();
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
    TestHost host = null!;
    HttpClient client = null!;

    public Task InitializeAsync()
    {
        host = new TestHost(classifier, new ServerOptions { MaxUploadBytes = 200_000, UploadBytesInFlight = 400_000, MaxBatch = 64, MaxWait = TimeSpan.FromMilliseconds(20) });
        client = host.Client;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    internal static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
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

    /// <summary>A body sent as it is, under the Content-Type given (which may be malformed).</summary>
    internal static ByteArrayContent Raw(string contentType, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    internal static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    static string TopClass(JsonElement prediction) => prediction.GetProperty("top")[0].GetProperty("class").GetString()!;

    async Task AssertError(HttpResponseMessage response, HttpStatusCode status, string message)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {body}");
        Assert.Contains(message, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        Assert.Empty(host.Log); // a client's mistake is not the server's event
    }

    [Fact]
    public async Task ImagesAreAnsweredWithTheirTopClasses()
    {
        var response = await client.PostAsync("/predict?top=2", Form(("red.png", Images.Png(SKColors.Red)), ("blue.png", Images.Png(SKColors.Blue))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = (await Json(response)).GetProperty("predictions");
        Assert.Equal(2, predictions.GetArrayLength());
        Assert.Equal("red.png", predictions[0].GetProperty("name").GetString());
        Assert.Equal("red", TopClass(predictions[0]));
        Assert.Equal("blue", TopClass(predictions[1]));
        Assert.Equal(2, predictions[1].GetProperty("top").GetArrayLength());
    }

    [Fact]
    public async Task OneImageCanBeTheRawBody()
    {
        var response = await client.PostAsync("/predict", Raw("image/png", Images.Png(SKColors.Lime)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", TopClass((await Json(response)).GetProperty("predictions")[0]));
    }

    [Theory]
    [InlineData("broken", HttpStatusCode.BadRequest, "broken.png: not a readable image")]
    [InlineData("truncated", HttpStatusCode.BadRequest, "truncated.png: the image is truncated or corrupt")]
    [InlineData("huge", HttpStatusCode.RequestEntityTooLarge, "huge.png: 20000×20000 pixels is larger than")]
    [InlineData("upload", HttpStatusCode.RequestEntityTooLarge, "the request is larger than the 195.3 KiB allowed")]
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
        await AssertError(await client.PostAsync("/predict", content), status, message);

        var next = await client.PostAsync("/predict", Form(("red.png", png)));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("2&top=3")]
    [InlineData("99999999999")]
    public async Task ABadTopIsA400ThatSaysWhatTopTakes(string top)
    {
        var response = await client.PostAsync($"/predict?top={top}", Form(("red.png", Images.Png(SKColors.Red))));
        await AssertError(response, HttpStatusCode.BadRequest, "top must be a whole number, 1 or more");
    }

    [Fact]
    public async Task ATopAboveTheClassesGivesEveryClass()
    {
        var response = await client.PostAsync("/predict?top=50", Form(("red.png", Images.Png(SKColors.Red))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, (await Json(response)).GetProperty("predictions")[0].GetProperty("top").GetArrayLength());
    }

    [Theory]
    [InlineData("no boundary")]
    [InlineData("unclosed boundary")]
    [InlineData("not multipart")]
    public async Task AMalformedMultipartBodyIsA400(string kind)
    {
        var part = "--XYZ\r\nContent-Disposition: form-data; name=\"images\"; filename=\"red.png\"\r\nContent-Type: image/png\r\n\r\n"u8.ToArray()
            .Concat(Images.Png(SKColors.Red)).ToArray();
        HttpContent content = kind switch
        {
            "no boundary" => Raw("multipart/form-data", [.. part, .. "\r\n--XYZ--\r\n"u8.ToArray()]),
            "unclosed boundary" => Raw("multipart/form-data; boundary=XYZ", part),
            _ => Raw("multipart/form-data; boundary=XYZ", "this is not a multipart body"u8.ToArray()),
        };
        await AssertError(await client.PostAsync("/predict", content), HttpStatusCode.BadRequest,
                          "the multipart/form-data body cannot be read: " + (kind == "no boundary" ? "its Content-Type has no boundary parameter" : "it ends before its closing boundary (or has none)"));
    }

    [Fact]
    public async Task NaNProbabilitiesAreAJsonErrorNotAnEmpty500()
    {
        await using var nan = new TestHost(new NaNForBlackClassifier(), new ServerOptions());
        var response = await nan.Client.PostAsync("/predict", Form(("black.png", Images.Png(SKColors.Black))));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("black.png: the network's probabilities are not numbers", (await Json(response)).GetProperty("error").GetString());
        Assert.StartsWith("error: POST /predict: black.png: the network's probabilities are not numbers", Assert.Single(nan.Log)); // one line, no trace
        Assert.Equal(HttpStatusCode.OK, (await nan.Client.PostAsync("/predict", Form(("red.png", Images.Png(SKColors.Red))))).StatusCode);
    }

    [Fact]
    public async Task ARequestLargerThanMaxBatchIsSplitIntoPassesOfThatSize()
    {
        var recording = new RecordingClassifier();
        await using var small = new TestHost(recording, new ServerOptions { MaxBatch = 4 });
        recording.Batches.Clear(); // the start-up check's pass
        var colours = new[] { SKColors.Red, SKColors.Lime, SKColors.Blue };
        var files = Enumerable.Range(0, 10).Select(i => ($"{i}.png", Images.Png(colours[i % 3]))).ToArray();
        var response = await small.Client.PostAsync("/predict", Form(files));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = (await Json(response)).GetProperty("predictions");
        for (int i = 0; i < 10; i++)
            Assert.Equal(new[] { "red", "green", "blue" }[i % 3], TopClass(predictions[i]));
        Assert.All(recording.Batches, size => Assert.InRange(size, 1, 4));
        Assert.Equal(10, recording.Batches.Sum());
    }

    [Fact]
    public async Task AnImageNeedingMoreThanTheDecodingMemoryIsRefusedAndOthersWaitForTheirShare()
    {
        // 1000×1000 pixels take 4 MB decoded: two fit in 9 MiB at once, never three; 2000×2000 never fits.
        await using var tight = new TestHost(new ColourClassifier(), new ServerOptions { DecodingBytes = 9L << 20 });
        var response = await tight.Client.PostAsync("/predict", Form(("big.png", Images.SolidPng(2000, 2000))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("big.png: decoding 2000×2000 pixels takes 15 MiB, more than the 9 MiB this server decodes at once", (await Json(response)).GetProperty("error").GetString());

        var colours = new[] { Images.SolidPng(1000, 1000, 255, 0, 0), Images.SolidPng(1000, 1000, 0, 255, 0), Images.SolidPng(1000, 1000, 0, 0, 255) };
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            tight.Client.PostAsync("/predict", Form(($"{i}.png", colours[i % 3])))));
        for (int i = 0; i < 12; i++)
            Assert.Equal(new[] { "red", "green", "blue" }[i % 3], TopClass((await Json(responses[i])).GetProperty("predictions")[0]));
        var decoding = (await tight.Health()).GetProperty("decoding");
        Assert.InRange(decoding.GetProperty("peakBytes").GetInt64(), 4_000_000, 9L << 20);
        Assert.Equal(0, decoding.GetProperty("bytesInFlight").GetInt64());
    }

    [Fact]
    public async Task TheTimeLimitHoldsWhileImagesDecode()
    {
        // Sixty-four images of 49 million pixels (196 MB each decoded, two at a time within the decoding memory) take
        // several times the limit to decode on the fastest machine seen, and their 80 MB of upload a fraction of it to
        // read: a test server aborts a request that times out before its handler runs, so the limit must run out while
        // the images decode.
        await using var slow = new TestHost(new ColourClassifier(), new ServerOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(3), MaxUploadBytes = 128L << 20, MaxImagesPerRequest = 64,
        });
        var large = Images.SolidPng(7000, 7000);
        var files = Enumerable.Range(0, 64).Select(i => ($"{i}.png", large)).ToArray();
        var response = await slow.Client.PostAsync("/predict", Form(files));
        Assert.True(response.StatusCode == HttpStatusCode.GatewayTimeout, await response.Content.ReadAsStringAsync());
        Assert.Contains("the request took longer than the 3 s allowed", (await Json(response)).GetProperty("error").GetString());

        // Decoding stopped with the request: the image in hand finishes, the rest are never decoded.
        JsonElement decoding = default;
        for (int i = 0; i < 400 && (decoding.ValueKind == JsonValueKind.Undefined || decoding.GetProperty("bytesInFlight").GetInt64() > 0); i++)
        {
            await Task.Delay(50);
            decoding = (await slow.Health()).GetProperty("decoding");
        }
        Assert.Equal(0, decoding.GetProperty("bytesInFlight").GetInt64());
        Assert.InRange(decoding.GetProperty("images").GetInt64(), 0, files.Length - 1);
        Assert.Equal("warning: POST /predict: no answer within the 3 s allowed (504)", Assert.Single(slow.Log));
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
            Assert.Equal(new[] { "red", "green", "blue" }[i % 3], TopClass((await Json(responses[i])).GetProperty("predictions")[0]));
        int passes = classifier.Passes - before;
        Assert.True(passes < 24, $"24 concurrent requests took {passes} forward passes: no batching");
    }

    [Fact]
    public async Task HealthAndTheOpenApiDescriptionAndThePageAreServed()
    {
        var health = await host.Health();
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(3, health.GetProperty("classes").GetArrayLength());
        Assert.Equal(200_000, health.GetProperty("limits").GetProperty("maxUploadBytes").GetInt64());
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/predict\"", openApi);
        var page = await client.GetStringAsync("/");
        Assert.Contains("<input id=\"files\" type=\"file\"", page);
        Assert.Contains("<p id=\"model\">", page);
    }

    [Fact]
    public async Task HealthSaysWhichNetworkAndRunAreServedWithTheirTestAccuracy()
    {
        var served = new ServedModel("simple", "/runs/simple-1/best", "/runs/simple-1", 0.5629, TestTta: true);
        await using var described = new TestHost(new ColourClassifier(), new ServerOptions { Served = served });
        var model = (await described.Health()).GetProperty("model");
        Assert.Equal("simple", model.GetProperty("network").GetString());
        Assert.Equal("/runs/simple-1", model.GetProperty("run").GetString());
        Assert.Equal(0.5629, model.GetProperty("testAccuracy").GetDouble());
        Assert.True(model.GetProperty("testTta").GetBoolean());
    }

    [Theory]
    [InlineData(3, float.NaN, "names 3 classes")] // the right width, but NaN
    [InlineData(2, 0.5f, "gives 2 outputs per image but names 3 classes")]
    [InlineData(10, 0.1f, "gives 10 outputs per image but names 3 classes")]
    public void ANetworkThatDoesNotFitItsClassNamesOrGivesNaNIsRefusedAtStart(int outputs, float value, string message)
    {
        var e = Assert.Throws<CheckpointException>(() => PredictionServer.Build(new WrongWidthClassifier(outputs, value), new ServerOptions()));
        Assert.Contains(float.IsNaN(value) ? "not numbers (NaN or infinite)" : message, e.Message);
    }

    public static TheoryData<ServerOptions, string> OptionsOutOfRange => new()
    {
        { new ServerOptions { Top = 0 }, "--top must be at least 1 (got 0)" },
        { new ServerOptions { MaxBatch = 0 }, "--max-batch must be in 1..4096 (got 0)" },
        { new ServerOptions { MaxBatch = 5000 }, "--max-batch must be in 1..4096 (got 5000)" },
        { new ServerOptions { MaxWait = TimeSpan.FromMilliseconds(-1) }, "--max-wait-ms must be in 0..1000 (got -1)" },
        { new ServerOptions { MaxWait = TimeSpan.FromSeconds(5) }, "--max-wait-ms must be in 0..1000 (got 5000)" },
        { new ServerOptions { Port = 70000 }, "--port must be in 0..65535" },
        { new ServerOptions { DecodingBytes = 0 }, "--decode-memory-mib must be at least 1" },
    };

    [Theory]
    [MemberData(nameof(OptionsOutOfRange))]
    public void OptionsOutOfRangeAreRefusedBeforeTheServerStarts(ServerOptions options, string message)
    {
        Assert.Contains(message, Assert.Throws<ConfigException>(() => PredictionServer.Build(new ColourClassifier(), options)).Message);
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

/// <summary>An ONNX model the server cannot use is refused when it is opened, not on each request.</summary>
public class OnnxModelCheckTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-onnx-check-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A model shaped as `cifar10 export` writes one (its probabilities the mean colour's softmax), bent as asked.</summary>
    string Model(global::Onnx.TensorProto.Types.DataType input = global::Onnx.TensorProto.Types.DataType.Uint8,
                 bool fixedBatch = false, int outputs = 3, string classNames = "[\"red\",\"green\",\"blue\"]")
    {
        var graph = new OnnxGraph();
        var x = graph.Input(ModelExport.OnnxInput, input, 3, 32, 32);
        if (input != global::Onnx.TensorProto.Types.DataType.Float)
            x = graph.Node("Cast", [x], new Dictionary<string, object> { ["to"] = (long)global::Onnx.TensorProto.Types.DataType.Float });
        x = graph.Flatten(graph.Node("GlobalAveragePool", [x]));
        if (outputs != 3) x = graph.Node("MatMul", [x, graph.Constant(new float[3 * outputs], [3, outputs], "widen")]);
        graph.Output(graph.Node("Softmax", [x], new Dictionary<string, object> { ["axis"] = 1L }), ModelExport.OnnxProbabilities, outputs);
        if (fixedBatch) graph.Proto.Input[0].Type.TensorType.Shape.Dim[0] = new global::Onnx.TensorShapeProto.Types.Dimension { DimValue = 1 };
        var path = Path.Combine(root, $"{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, graph.ToModel(new Dictionary<string, string> { ["class_names"] = classNames, ["model"] = "toy" }, "test").ToByteArray());
        return path;
    }

    [Fact]
    public void AModelOfTheExportsShapeIsServed()
    {
        using var classifier = new OnnxClassifier(Model());
        Assert.Equal(["red", "green", "blue"], classifier.ClassNames);
        Assert.Equal("toy", classifier.Network);
        PredictionServer.CheckNetwork(classifier);
    }

    [Fact]
    public void AFloatInputIsRefused() =>
        Assert.Contains("as float [batch, 3, 32, 32]; expected uint8 [batch, 3, 32, 32] with a dynamic batch",
                        Assert.Throws<CheckpointException>(() => new OnnxClassifier(Model(input: global::Onnx.TensorProto.Types.DataType.Float))).Message);

    [Fact]
    public void AFixedBatchIsRefused() =>
        Assert.Contains("as uint8 [1, 3, 32, 32]; expected uint8 [batch, 3, 32, 32] with a dynamic batch",
                        Assert.Throws<CheckpointException>(() => new OnnxClassifier(Model(fixedBatch: true))).Message);

    [Fact]
    public void MoreOutputsThanClassNamesAreRefused() =>
        Assert.Contains("its class_names metadata names 3 classes, its network outputs 5",
                        Assert.Throws<CheckpointException>(() => new OnnxClassifier(Model(outputs: 5))).Message);

    [Fact]
    public void ClassNamesThatAreNotAJsonListAreRefused() =>
        Assert.Contains("its class_names metadata is not a JSON list of class names",
                        Assert.Throws<CheckpointException>(() => new OnnxClassifier(Model(classNames: "red, green, blue"))).Message);
}
