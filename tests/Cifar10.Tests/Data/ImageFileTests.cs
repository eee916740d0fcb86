using System.Diagnostics;
using Cifar10.Data;
using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Data;

public class ImageFileTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-images-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    string Encoded(string name, SKEncodedImageFormat format, int width = 64, int height = 48)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SkyBlue);
            using var paint = new SKPaint { Color = SKColors.DarkGreen };
            canvas.DrawCircle(width * 30 / 64f, height * 25 / 48f, height * 15 / 48f, paint);
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

    static byte[] Png(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Fact]
    public void A32By32ImageKeepsItsPixelsExactly()
    {
        var random = new Random(7);
        using var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var rgba = bitmap.GetPixelSpan();
        random.NextBytes(rgba);
        for (int p = 0; p < 1024; p++) rgba[4 * p + 3] = 255;
        var expected = new byte[3072];
        for (int p = 0; p < 1024; p++)
            for (int c = 0; c < 3; c++) expected[c * 1024 + p] = rgba[4 * p + c];

        Assert.Equal(expected, ImageFile.Decode(Png(bitmap), "noise.png"));
    }

    [Fact]
    public void AFinePatternShrinksToItsMeanColourNotToAliases()
    {
        // One white column in four, four times too fine to show: every output pixel covers one white and three black
        // columns, a quarter white (a filter that samples instead of averaging sees mostly black, or mostly white).
        using var bitmap = new SKBitmap(new SKImageInfo(128, 128, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < 128; y++)
            for (int x = 0; x < 128; x++)
                bitmap.SetPixel(x, y, x % 4 == 0 ? SKColors.White : SKColors.Black);
        Assert.All(ImageFile.Decode(Png(bitmap), "stripes.png"), value => Assert.Equal(64, value)); // 255 / 4, rounded
    }

    [Fact]
    public void TransparentAreasAreWhite()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(40, 40, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(SKColors.Transparent);
        Assert.All(ImageFile.Decode(Png(bitmap), "clear.png"), value => Assert.Equal(255, value));
    }

    [Fact]
    public void ALargeJpegDecodesAtAReducedSizeAndLooksTheSame()
    {
        var path = Encoded("photo.jpg", SKEncodedImageFormat.Jpeg, 4000, 3000);
        using var image = EncodedImage.Open(File.ReadAllBytes(path), path);
        Assert.Equal((4000, 3000), (image.Width, image.Height));
        Assert.InRange(image.DecodeHeight, 32, 3000 / 8 + 1); // libjpeg decodes eighths: 1/8 is the smallest above 32 pixels
        Assert.True(image.DecodeBytes < 4000L * 3000, $"{image.DecodeBytes:N0} bytes to decode");

        var scaled = image.Decode();
        var reference = ImageFile.Decode(File.ReadAllBytes(Encoded("small.png", SKEncodedImageFormat.Png, 4000, 3000)), "small.png");
        double difference = scaled.Zip(reference, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(difference < 4, $"the scaled decode differs by {difference:F1} levels on average");
    }

    [Fact]
    public async Task AFifoIsRefusedWithoutWaitingForAWriter()
    {
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(root, "pipe.png");
        using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        var read = Task.Run(() => Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(fifo)));
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read, "reading a FIFO hung");
        Assert.Contains("not a regular file", (await read).Message);
    }

    [Fact]
    public void AFolderOrAMissingFileIsNamed()
    {
        Assert.Contains("is a folder", Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(root)).Message);
        Assert.Contains("file not found", Assert.Throws<ImageException>(() => ImageFile.LoadAsCifar(Path.Combine(root, "none.png"))).Message);
    }
}
