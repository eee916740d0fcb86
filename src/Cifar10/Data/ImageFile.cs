using Cifar10.Runtime;
using SkiaSharp;

namespace Cifar10.Data;

/// <summary>A user's image, as the network sees it: 3×32×32 bytes, planar R, G, B.</summary>
public static class ImageFile
{
    public const int Size = 32;
    /// <summary>Larger files are refused rather than read whole into memory.</summary>
    public const long MaxFileBytes = 64L << 20;
    /// <summary>Larger images are refused before decoding: a small file can declare a huge image.</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>Reads a PNG, JPEG, BMP, WebP or GIF (first frame) file of any size and colour mode,
    /// see <see cref="Decode"/>. A missing, special (FIFO, device) or unreadable file is an <see cref="ImageException"/>.</summary>
    public static byte[] LoadAsCifar(string path)
    {
        if (Directory.Exists(path)) throw new ImageException($"{path}: is a folder, not an image file");
        if (!File.Exists(path)) throw new ImageException($"{path}: file not found");
        if (!RegularFile.Is(path)) throw new ImageException($"{path}: not a regular file (a FIFO, socket or device?)");
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new ImageTooLargeException($"{path}: {length:N0} bytes is larger than the {MaxFileBytes >> 20} MiB an image may have");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageException($"{path}: cannot be read ({e.Message})");
        }
        return Decode(bytes, path);
    }

    /// <summary>
    /// Decodes an encoded image completely (a truncated or corrupt file is an <see cref="ImageException"/>
    /// naming <paramref name="name"/>, never a partly grey picture), draws it over white (so transparent
    /// areas are not black) and resizes it to 32×32.
    /// </summary>
    public static byte[] Decode(ReadOnlySpan<byte> encoded, string name)
    {
        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var opened)
                          ?? throw new ImageException($"{name}: not a readable image ({Describe(opened)}; PNG, JPEG, BMP, WebP or GIF expected)");
        var size = codec.Info;
        if ((long)size.Width * size.Height > MaxPixels)
            throw new ImageTooLargeException($"{name}: {size.Width}×{size.Height} pixels is larger than the {MaxPixels:N0} an image may have");
        var fullInfo = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(fullInfo);
        var result = codec.GetPixels(fullInfo, decoded.GetPixels()); // a GIF's first frame
        if (result != SKCodecResult.Success)
            throw new ImageException($"{name}: the image is truncated or corrupt ({Describe(result)})");

        using var surface = SKSurface.Create(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul))
                            ?? throw new ImageException($"{name}: cannot allocate a 32×32 image");
        surface.Canvas.Clear(SKColors.White);
        using var image = SKImage.FromBitmap(decoded);
        // Mitchell cubic gives fewer aliasing artefacts than bilinear when shrinking large photos.
        surface.Canvas.DrawImage(image, new SKRect(0, 0, Size, Size), new SKSamplingOptions(SKCubicResampler.Mitchell));
        surface.Canvas.Flush();

        using var pixels = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (!surface.ReadPixels(pixels.Info, pixels.GetPixels(), pixels.RowBytes, 0, 0))
            throw new ImageException($"{name}: cannot read back the resized image");
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

    static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the data ends early",
        SKCodecResult.ErrorInInput => "the data is damaged",
        SKCodecResult.InvalidInput => "unrecognised data",
        SKCodecResult.Unimplemented => "a format or variant the decoder does not support",
        _ => result.ToString(),
    };
}

/// <summary>An image that cannot be read; the other images of the same call are still answered.</summary>
public class ImageException(string message) : Exception(OneLine.Of(message));

/// <summary>An image too large to decode (the server answers 413).</summary>
public sealed class ImageTooLargeException(string message) : ImageException(message);
