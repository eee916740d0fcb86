using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cifar10.Serving;
using Microsoft.AspNetCore.Builder;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace Cifar10.Tests.Serving;

/// <summary>What only a real socket shows: where the server listens, and the HTTP server's own limits.</summary>
public class ServerLimitsTests(ITestOutputHelper output)
{
    static async Task<WebApplication> StartAsync(ServerOptions options)
    {
        var app = PredictionServer.Build(new ColourClassifier(), options with { Port = 0 });
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task AHeaderOverTheLimitIsAJson431()
    {
        var app = await StartAsync(new ServerOptions());
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "predict") { Content = ServerTests.Form(("red.png", Images.Png(SKColors.Red))) };
            request.Headers.Add("X-Padding", new string('x', 40 << 10));
            var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge, $"{response.StatusCode}: {body}");
            Assert.Contains("the request's headers take", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
            Assert.Contains("at most 32,768", body);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task AHostNameListensOnlyOnTheAddressesItResolvesTo()
    {
        var name = Dns.GetHostName();
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(name);
        }
        catch (SocketException)
        {
            output.WriteLine($"skipped: this machine's name {name} does not resolve");
            return;
        }
        var app = await StartAsync(new ServerOptions { Host = name });
        try
        {
            Assert.NotEmpty(app.Urls);
            foreach (var url in app.Urls)
            {
                var host = IPAddress.Parse(new Uri(url).Host.Trim('[', ']'));
                Assert.Contains(addresses, a => a.GetAddressBytes().SequenceEqual(host.GetAddressBytes())); // a URL drops the scope of fe80:: addresses
                Assert.False(host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any), $"{name} listens on every interface: {url}");
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void ANameThatResolvesToNothingIsRefused()
    {
        var e = Assert.Throws<ConfigException>(() => PredictionServer.Build(new ColourClassifier(), new ServerOptions { Host = "no-such-host.invalid" }));
        Assert.StartsWith("--host no-such-host.invalid does not resolve to an address", e.Message);
    }

    [Fact]
    public void APortInUseIsOneLineSayingSo()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var options = new ServerOptions { Port = port };
        var app = PredictionServer.Build(new ColourClassifier(), options);
        var e = Assert.Throws<IOException>(() => PredictionServer.Start(app, options));
        Assert.Equal($"cannot listen on 127.0.0.1:{port}: address already in use", e.Message);
    }
}

/// <summary>The budget that bounds the memory requests hold: shares in order, never more than the capacity.</summary>
public class MemoryBudgetTests
{
    [Fact]
    public async Task SharesWaitInOrderAndACancelledWaitLetsTheNextOneIn()
    {
        var budget = new MemoryBudget(10);
        var first = await budget.AcquireAsync(6, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var large = budget.AcquireAsync(8, cancel.Token);
        var small = budget.AcquireAsync(4, CancellationToken.None);
        Assert.False(large.IsCompleted);
        Assert.False(small.IsCompleted); // it would fit, but the larger one came first
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => large);
        using (await small)
            Assert.Equal(10, budget.InUse);
        first.Dispose();
        first.Dispose(); // a share is given back once
        Assert.Equal(0, budget.InUse);
        Assert.Equal(10, budget.Peak);
        Assert.Throws<ArgumentOutOfRangeException>(() => budget.AcquireAsync(11, CancellationToken.None).GetAwaiter().GetResult());
    }
}
