using Cifar10.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace Cifar10.Tests.Serving;

/// <summary>The web page in a real browser: headless Chromium (Debian's, driven by Playwright) loads it,
/// uploads an image through the file input and sees its predicted class appear.</summary>
public class BrowserTests(ITestOutputHelper output)
{
    const string Chromium = "/usr/bin/chromium";

    /// <summary>Where the last screenshot is kept (the README's picture of the page comes from it).</summary>
    public static readonly string Screenshot = Path.Combine(Path.GetTempPath(), "cifar10-serve-page.png");

    [Fact]
    public async Task APersonSeesWhatIsServedPicksAnImageAndSeesItsClass()
    {
        if (!File.Exists(Chromium))
        {
            output.WriteLine($"skipped: no browser at {Chromium} (apt-get install chromium; CI installs it)");
            return;
        }
        using var classifier = new ColourClassifier();
        var served = new ServedModel("simple", "/runs/simple-1/best", "/runs/simple-1", 0.5629);
        var app = PredictionServer.Build(classifier, new ServerOptions { Port = 0, Served = served });
        await app.StartAsync();
        try
        {
            var url = app.Urls.First();
            var image = Path.Combine(Path.GetTempPath(), $"cifar10-blue-{Guid.NewGuid():N}.png");
            await File.WriteAllBytesAsync(image, Images.Png(SKColors.Blue, 64, 48));
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"],
            });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 900, Height = 520 } });
            await page.GotoAsync(url);
            var model = page.Locator("#model");
            await model.Locator(".classes").WaitForAsync(new() { Timeout = 30_000 });
            Assert.Equal("Network simple · run /runs/simple-1 · test accuracy 56.29%\n3 classes: red, green, blue", await model.InnerTextAsync());
            await page.SetInputFilesAsync("#files", image);
            var top = page.Locator(".prediction .bar .class-name").First;
            await top.WaitForAsync(new() { Timeout = 30_000 });
            Assert.Equal("blue", await top.InnerTextAsync());
            Assert.Contains(Path.GetFileName(image), await page.Locator(".prediction .name").First.InnerTextAsync());
            await page.ScreenshotAsync(new() { Path = Screenshot });
            output.WriteLine($"screenshot: {Screenshot}");
            File.Delete(image);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
