using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Cifar10.Cli;
using Cifar10.Tests.Cli;
using Cifar10.Tests.Data;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;
using CommandLine = Cifar10.Tests.Cli.Cli;

namespace Cifar10.Tests.Serving;

/// <summary>`cifar10 serve` as a user meets it: its options, its start, and its answers under a hostile load.</summary>
[Collection(GlobalTorchState.Name)]
public class ServeCommandTests(FinishedRunFixture finished, ITestOutputHelper output) : IClassFixture<FinishedRunFixture>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-serve-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static void AssertOneLine(string err) => Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Theory]
    [InlineData("--top", "0", "--top must be at least 1 (got 0)")]
    [InlineData("--max-batch", "0", "--max-batch must be in 1..4096 (got 0)")]
    [InlineData("--max-batch", "100000", "--max-batch must be in 1..4096 (got 100000)")]
    [InlineData("--max-wait-ms", "-1", "--max-wait-ms must be in 0..1000 (got -1)")]
    [InlineData("--max-wait-ms", "60000", "--max-wait-ms must be in 0..1000 (got 60000)")]
    [InlineData("--decode-memory-mib", "0", "--decode-memory-mib must be at least 1")]
    public void OptionsOutOfRangeAreUsageErrorsBeforeTheNetworkLoads(string option, string value, string message)
    {
        var (code, _, err) = CommandLine.Run("serve", "--checkpoint", Path.Combine(root, "no-such-run"), option, value);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains(message, err);
        AssertOneLine(err);
    }

    [Fact]
    public void AHostNameThatResolvesToNothingIsAUsageError()
    {
        using var server = CommandLine.Start("serve", "--checkpoint", finished.Run, "--host", "no-such-host.invalid", "--port", FreePort().ToString(), "--threads", "1");
        Assert.Equal(Program.UsageError, server.WaitForExit(TimeSpan.FromSeconds(90)));
        Assert.Contains("--host no-such-host.invalid does not resolve to an address", server.Err);
        AssertOneLine(server.Err);
    }

    [Fact]
    public void ACheckpointWhoseClassNamesDoNotFitItsNetworkIsRefusedAtStart()
    {
        var run = finished.Copy(Path.Combine(root, "run"));
        var state = Path.Combine(run, "best", "state.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(state))!;
        json["class_names"] = new System.Text.Json.Nodes.JsonArray(TinyData.ClassNames.Take(9).Select(n => (System.Text.Json.Nodes.JsonNode)n!).ToArray());
        File.WriteAllText(state, json.ToJsonString());
        using var server = CommandLine.Start("serve", "--checkpoint", run, "--port", FreePort().ToString(), "--threads", "1");
        Assert.Equal(Program.Failure, server.WaitForExit(TimeSpan.FromSeconds(90)));
        // state.json is checked when the checkpoint is read, before the network's own check at start-up would see it.
        Assert.Contains("class_names has 9 names for num_classes 10", server.Err);
        AssertOneLine(server.Err);
    }

    [Fact]
    public void BindFailuresPrintOneLineAndNoTrace()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        foreach (var (host, reason) in new[] { ("127.0.0.1", "address already in use"), ("203.0.113.7", "address not available (not one of this machine's)") })
        {
            using var server = CommandLine.Start("serve", "--checkpoint", finished.Run, "--host", host, "--port", port.ToString(), "--threads", "1");
            Assert.Equal(Program.Failure, server.WaitForExit(TimeSpan.FromSeconds(90)));
            Assert.Equal($"error: cannot listen on {host}:{port}: {reason}", server.Err.Trim());
        }
    }

    /// <summary>
    /// Garbage, malformed bodies, image bombs (declared huge, too large for the decoding memory, and large ones within
    /// it) and good images at once, 12 requests at a time, on loopback: nothing is a 5xx, the log stays empty, the
    /// resident memory stays within the decoding and upload budgets above the idle server, and the good images get the
    /// answers `predict` gives them.
    /// </summary>
    [Fact]
    public async Task AHostileLoadGetsNo5xxNoTraceAndBoundedMemoryWhileGoodImagesAreAnsweredRight()
    {
        if (!OperatingSystem.IsLinux()) return;
        var good = TestSetPngs.Write(root, 6);
        var predicted = CommandLine.Run(["predict", "--checkpoint", finished.Run, "--json", "--top", "1", .. good.Select(g => g.Path)]);
        Assert.True(predicted.Code == 0, predicted.Err);
        var expected = predicted.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(p => Path.GetFileName(p.GetProperty("path").GetString()!), p => p.GetProperty("top")[0]);

        int port = FreePort();
        const long decodeMemory = 256L << 20;
        using var server = CommandLine.Start("serve", "--checkpoint", finished.Run, "--port", port.ToString(), "--decode-memory-mib", "256", "--threads", "1");
        Assert.True(server.WaitUntil(() => server.Out.Contains("serving"), TimeSpan.FromSeconds(90)), server.Err);
        Assert.Contains("serving simple from", server.Out);
        Assert.Contains("test accuracy", server.Out);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(2) };
        async Task<JsonElement> Health() => JsonDocument.Parse(await client.GetStringAsync("healthz")).RootElement;

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("predict", ServerTests.Form((Path.GetFileName(good[0].Path), File.ReadAllBytes(good[0].Path))))).StatusCode);
        var idle = await Health();
        Assert.Equal("simple", idle.GetProperty("model").GetProperty("network").GetString());
        Assert.Equal(finished.Run, idle.GetProperty("model").GetProperty("run").GetString());
        long idleResident = idle.GetProperty("memory").GetProperty("residentBytes").GetInt64();

        var bomb = Images.SolidPng(5000, 5000);          // 100 MB decoded: two at a time fit
        var tooLarge = Images.SolidPng(9000, 9000);      // 324 MB decoded: more than the server decodes at once
        var png = Images.Png(SKColors.Blue);
        var part = "--XYZ\r\nContent-Disposition: form-data; name=\"images\"; filename=\"cut.png\"\r\nContent-Type: image/png\r\n\r\n"u8.ToArray().Concat(png).ToArray();
        var load = new List<(string Kind, HttpStatusCode Status, Func<HttpRequestMessage> Request)>();
        void Add(string kind, HttpStatusCode status, int times, Func<HttpContent> content, string query = "", (string, string)? header = null)
        {
            for (int i = 0; i < times; i++)
                load.Add((kind, status, () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, "predict" + query) { Content = content() };
                    if (header is var (name, value)) request.Headers.Add(name, value);
                    return request;
                }));
        }
        foreach (var image in good)
            Add(Path.GetFileName(image.Path), HttpStatusCode.OK, 3, () => ServerTests.Form((Path.GetFileName(image.Path), File.ReadAllBytes(image.Path))));
        Add("bomb", HttpStatusCode.OK, 6, () => ServerTests.Form(("bomb.png", bomb)));
        Add("too large to decode", HttpStatusCode.RequestEntityTooLarge, 3, () => ServerTests.Form(("large.png", tooLarge)));
        Add("declared huge", HttpStatusCode.RequestEntityTooLarge, 6, () => ServerTests.Form(("huge.png", Images.HugePngHeader())));
        Add("garbage", HttpStatusCode.BadRequest, 4, () => ServerTests.Raw("image/png", Enumerable.Range(0, 5000).Select(i => (byte)(i * 31)).ToArray()));
        Add("truncated", HttpStatusCode.BadRequest, 2, () => ServerTests.Form(("cut.png", png[..(png.Length / 2)])));
        Add("unclosed multipart", HttpStatusCode.BadRequest, 2, () => ServerTests.Raw("multipart/form-data; boundary=XYZ", part));
        Add("no boundary", HttpStatusCode.BadRequest, 2, () => ServerTests.Raw("multipart/form-data", part));
        Add("bad top", HttpStatusCode.BadRequest, 2, () => ServerTests.Form(("blue.png", png)), "?top=-3");
        Add("large header", HttpStatusCode.RequestHeaderFieldsTooLarge, 2, () => ServerTests.Form(("blue.png", png)), header: ("X-Padding", new string('x', 40 << 10)));
        Add("too many images", HttpStatusCode.RequestEntityTooLarge, 1, () => ServerTests.Form(Enumerable.Range(0, 70).Select(i => ($"{i}.png", png)).ToArray()));
        Add("empty", HttpStatusCode.BadRequest, 2, () => new ByteArrayContent([]));
        var shuffled = load.OrderBy(_ => Random.Shared.Next()).ToList();

        using var gate = new SemaphoreSlim(12);
        var answers = await Task.WhenAll(shuffled.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                using var response = await client.SendAsync(item.Request());
                return (item.Kind, Expected: item.Status, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }
            finally
            {
                gate.Release();
            }
        }));

        foreach (var (kind, status, actual, body) in answers)
        {
            Assert.True(actual == status, $"{kind}: {(int)actual} {body}");
            var json = JsonDocument.Parse(body).RootElement;
            if (status != HttpStatusCode.OK)
            {
                Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetString()), kind);
                continue;
            }
            if (!expected.TryGetValue(kind, out var answer)) continue;
            var top = json.GetProperty("predictions")[0].GetProperty("top")[0];
            Assert.Equal(answer.GetProperty("class").GetString(), top.GetProperty("class").GetString());
            Assert.Equal(answer.GetProperty("probability").GetDouble(), top.GetProperty("probability").GetDouble(), tolerance: 1e-4); // batches differ
        }

        var after = await Health();
        long peak = after.GetProperty("memory").GetProperty("peakResidentBytes").GetInt64();
        long decodedPeak = after.GetProperty("decoding").GetProperty("peakBytes").GetInt64();
        output.WriteLine($"resident when idle {idleResident >> 20} MiB, peak {peak >> 20} MiB (+{(peak - idleResident) >> 20} MiB); decoded pixels in flight at most {decodedPeak >> 20} MiB");
        Assert.InRange(decodedPeak, 100_000_000, decodeMemory);
        // The decoding memory, the uploads (small here) and the allocator's and the GC's slack.
        Assert.True(peak - idleResident < decodeMemory + (256L << 20), $"the resident memory rose by {(peak - idleResident) >> 20} MiB above the idle server's");

        server.Signal(CliProcess.SigTerm);
        Assert.Equal(Program.Success, server.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.True(server.Err.Trim().Length == 0, $"the server logged: {server.Err}");
    }
}
