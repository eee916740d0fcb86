using SkiaSharp;

namespace Cifar10.Prediction;

/// <summary>A user's image file, as the network sees it: 3×32×32 bytes, planar R, G, B.</summary>
public static class ImageFile
{
    public const int Size = 32;

    /// <summary>Decodes a PNG, JPEG (or anything Skia reads) of any size and colour mode, draws it
    /// over white (so transparent areas are not black) and resizes it to 32×32.</summary>
    public static byte[] LoadAsCifar(string path)
    {
        if (!File.Exists(path)) throw new ImageException($"{path}: file not found");
        using var decoded = SKBitmap.Decode(path)
                            ?? throw new ImageException($"{path}: not a readable image (PNG or JPEG expected)");
        using var surface = SKSurface.Create(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul))
                            ?? throw new ImageException($"{path}: cannot allocate a 32×32 image");
        surface.Canvas.Clear(SKColors.White);
        using var image = SKImage.FromBitmap(decoded);
        // Mitchell cubic gives fewer aliasing artefacts than bilinear when shrinking large photos.
        surface.Canvas.DrawImage(image, new SKRect(0, 0, Size, Size), new SKSamplingOptions(SKCubicResampler.Mitchell));
        surface.Canvas.Flush();

        using var pixels = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!surface.ReadPixels(pixels.Info, pixels.GetPixels(), pixels.RowBytes, 0, 0))
            throw new ImageException($"{path}: cannot read back the resized image");
        var rgba = pixels.Bytes;
        var planar = new byte[3 * Size * Size];
        for (int i = 0; i < Size * Size; i++)
        {
            planar[i] = rgba[4 * i];
            planar[Size * Size + i] = rgba[4 * i + 1];
            planar[2 * Size * Size + i] = rgba[4 * i + 2];
        }
        return planar;
    }
}

/// <summary>An image that cannot be read; the other images of the same call are still answered.</summary>
public sealed class ImageException(string message) : Exception(message);
