using System.Diagnostics;
using Cifar10.Data;
using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Data;

public class ImageFileTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-images-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    string Encoded(string name, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(64, 48, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SkyBlue);
            using var paint = new SKPaint { Color = SKColors.DarkGreen };
            canvas.DrawCircle(30, 25, 15, paint);
        }
        using var data = bitmap.Encode(format, 90);
        var path = Path.Combine(root, name);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [Theory]
    [InlineData("whole.png", SKEncodedImageFormat.Png)]
    [InlineData("whole.jpg", SKEncodedImageFormat.Jpeg)]
    [InlineData("whole.webp", SKEncodedImageFormat.Webp)]
    public void AWholeImageDecodesTo32By32Rgb(string name, SKEncodedImageFormat format)
    {
        var pixels = ImageFile.LoadAsCifar(Encoded(name, format));
        Assert.Equal(3 * 32 * 32, pixels.Length);
        Assert.InRange(pixels[0], 100, 160);           // sky blue's red channel at the top-left corner
        Assert.InRange(pixels[2 * 1024], 200, 255);    // and its blue channel
    }

    [Theory]
    [InlineData("cut.png", SKEncodedImageFormat.Png)]
    [InlineData("cut.jpg", SKEncodedImageFormat.Jpeg)]
    public void ATruncatedImageIsAnErrorNamingTheFileNotAConfidentAnswer(string name, SKEncodedImageFormat format)
    {
        var path = Encoded(name, format);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated or corrupt", e.Message);
    }

    [Fact]
    public void AFifoIsRefusedWithoutWaitingForAWriter()
    {
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(root, "pipe.png");
        using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        var read = Task.Run(() => Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(fifo)));
        Assert.True(read.Wait(TimeSpan.FromSeconds(10)), "reading a FIFO hung");
        Assert.Contains("not a regular file", read.Result.Message);
    }

    [Fact]
    public void AFolderOrAMissingFileIsNamed()
    {
        Assert.Contains("is a folder", Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(root)).Message);
        Assert.Contains("file not found", Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(Path.Combine(root, "none.png"))).Message);
    }
}
