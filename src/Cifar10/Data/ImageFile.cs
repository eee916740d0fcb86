using Cifar10.Runtime;
using SkiaSharp;

namespace Cifar10.Data;

/// <summary>
/// A user's image, as the network sees it: 3×32×32 bytes, planar R, G, B. An image of 32×32 pixels
/// keeps its pixels exactly (so a CIFAR image written as PNG reads back as the data set holds it);
/// any other size is resampled with a box filter over the exact area each output pixel covers
/// (area averaging, as PIL's BOX and OpenCV's INTER_AREA): shrinking averages every source pixel,
/// so fine detail turns to its mean colour instead of aliasing. Transparent areas are drawn over white.
/// </summary>
public static class ImageFile
{
    /// <summary>The side, in pixels, every image is resampled to.</summary>
    public const int Size = 32;
    /// <summary>Larger files are refused rather than read whole into memory.</summary>
    public const long MaxFileBytes = 64L << 20;
    /// <summary>Larger images are refused before decoding (a small file can declare a huge image): the
    /// pixels of the size an image decodes at (see <see cref="EncodedImage.DecodeWidth"/>).</summary>
    public const long MaxPixels = 100_000_000;
    /// <summary>Decoded pixels are held as RGBA while an image is resampled.</summary>
    internal const int BytesPerDecodedPixel = 4;
    /// <summary>Names this way of decoding: caches of decoded images (image folders) are keyed by it, so a change here
    /// must change it.</summary>
    internal const string DecoderVersion = "skia-over-white-box-32-v2";

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
    /// naming <paramref name="name"/>, never a partly grey picture) into 32×32 pixels, as the class comment says.
    /// </summary>
    public static byte[] Decode(ReadOnlySpan<byte> encoded, string name)
    {
        using var image = EncodedImage.Open(encoded, name);
        return image.Decode();
    }
}

/// <summary>
/// An encoded image whose header has been read: its size, and the memory decoding it will take, are
/// known before anything is decoded (the server reserves that memory first). JPEG and WebP decode
/// straight at a reduced size where the codec can (JPEG in eighths, WebP at any scale), never below
/// 32 pixels a side; PNG, BMP and GIF decode at full size.
/// </summary>
public sealed class EncodedImage : IDisposable
{
    readonly SKData data;
    readonly SKMemoryStream stream;
    readonly SKCodec codec;

    EncodedImage(string name, SKData data, SKMemoryStream stream, SKCodec codec)
    {
        Name = name;
        this.data = data;
        this.stream = stream;
        this.codec = codec;
        var decoded = DecodeSize(codec);
        DecodeWidth = decoded.Width;
        DecodeHeight = decoded.Height;
    }

    /// <summary>Reads the header. An unreadable image is an <see cref="ImageException"/>; one larger than
    /// <see cref="ImageFile.MaxPixels"/> once decoded is an <see cref="ImageTooLargeException"/>.</summary>
    public static EncodedImage Open(ReadOnlySpan<byte> encoded, string name)
    {
        var data = SKData.CreateCopy(encoded);
        var stream = new SKMemoryStream(data);
        var codec = SKCodec.Create(stream, out var opened);
        if (codec is null)
        {
            stream.Dispose();
            data.Dispose();
            throw new ImageException($"{name}: not a readable image ({Describe(opened)}; PNG, JPEG, BMP, WebP or GIF expected)");
        }
        var image = new EncodedImage(name, data, stream, codec);
        if (image.DecodePixels > ImageFile.MaxPixels)
        {
            var tooLarge = new ImageTooLargeException($"{name}: {image.Width}×{image.Height} pixels is larger than the {ImageFile.MaxPixels:N0} an image may have");
            image.Dispose();
            throw tooLarge;
        }
        return image;
    }

    /// <summary>The name messages use for the image (its path, or an upload's file name).</summary>
    public string Name { get; }
    /// <summary>The image's width in pixels, as its header says.</summary>
    public int Width => codec.Info.Width;
    /// <summary>The image's height in pixels, as its header says.</summary>
    public int Height => codec.Info.Height;
    /// <summary>The size the codec decodes the image at, before it is resampled to 32×32.</summary>
    public int DecodeWidth { get; }
    /// <summary>The height the codec decodes the image at (see <see cref="DecodeWidth"/>).</summary>
    public int DecodeHeight { get; }
    /// <summary>The pixels decoded: <see cref="DecodeWidth"/> × <see cref="DecodeHeight"/>; more than <see cref="ImageFile.MaxPixels"/> is refused.</summary>
    public long DecodePixels => (long)DecodeWidth * DecodeHeight;
    /// <summary>The memory decoding takes at its peak: the decoded pixels and the encoded copy the codec reads.</summary>
    public long DecodeBytes => DecodePixels * ImageFile.BytesPerDecodedPixel + data.Size;

    /// <summary>The smallest size the codec decodes at directly that is still at least 32 pixels a side (or the full
    /// size of a smaller image).</summary>
    static SKSizeI DecodeSize(SKCodec codec)
    {
        var full = codec.Info.Size;
        float scale = Math.Max((float)ImageFile.Size / full.Width, (float)ImageFile.Size / full.Height);
        if (scale >= 1) return full;
        var scaled = codec.GetScaledDimensions(scale);
        bool keepsEnough = scaled.Width >= ImageFile.Size && scaled.Height >= ImageFile.Size && scaled.Width <= full.Width && scaled.Height <= full.Height;
        return keepsEnough ? scaled : full;
    }

    /// <summary>Decodes and resamples to 3×32×32 planar RGB (see <see cref="ImageFile"/>). The token is checked before
    /// decoding starts; a decode once started runs to its end (the codec cannot be interrupted).</summary>
    public byte[] Decode(CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var info = new SKImageInfo(DecodeWidth, DecodeHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap();
        if (!decoded.TryAllocPixels(info))
            throw new ImageException($"{Name}: cannot allocate {DecodeBytes >> 20} MiB to decode {Width}×{Height} pixels");
        var result = codec.GetPixels(info, decoded.GetPixels()); // a GIF's first frame
        if (result != SKCodecResult.Success)
            throw new ImageException($"{Name}: the image is truncated or corrupt ({Describe(result)})");
        return AreaResampler.ToCifar(decoded.GetPixelSpan(), DecodeWidth, DecodeHeight, decoded.RowBytes);
    }

    static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the data ends early",
        SKCodecResult.ErrorInInput => "the data is damaged",
        SKCodecResult.InvalidInput => "unrecognised data",
        SKCodecResult.Unimplemented => "a format or variant the decoder does not support",
        _ => result.ToString(),
    };

    /// <summary>Frees the codec and the encoded bytes it holds.</summary>
    public void Dispose()
    {
        codec.Dispose();
        stream.Dispose();
        data.Dispose();
    }
}

/// <summary>Unpremultiplied RGBA of any size to 32×32 planar RGB over white, by area averaging (a box filter
/// weighted by the exact overlap of each source pixel with each output pixel).</summary>
static class AreaResampler
{
    const int Size = ImageFile.Size;

    public static byte[] ToCifar(ReadOnlySpan<byte> rgba, int width, int height, int rowBytes)
    {
        var columns = Segment.Along(width);
        var rows = Overlaps.Along(height);
        double columnSpan = (double)width / Size;
        var sums = new double[3 * Size * Size];
        var row = new double[3 * Size];
        for (int y = 0; y < height; y++)
        {
            HorizontalPass(rgba.Slice(y * rowBytes, width * 4), columns, columnSpan, row);
            for (int k = rows.First[y]; k < rows.First[y + 1]; k++)
            {
                int target = rows.Target[k];
                double weight = rows.Weight[k];
                for (int c = 0; c < 3; c++)
                    for (int x = 0; x < Size; x++)
                        sums[(c * Size + target) * Size + x] += weight * row[c * Size + x];
            }
        }
        var planar = new byte[3 * Size * Size];
        for (int i = 0; i < planar.Length; i++) planar[i] = (byte)Math.Clamp(Math.Round(sums[i]), 0, 255);
        return planar;
    }

    /// <summary>One source row to 32 output columns per channel, each pixel drawn over white first: value·α + 255·(1 − α),
    /// summed over the whole pixels of a column as 255·n − Σ(255 − value)·α/255 in integers (an opaque pixel keeps its value
    /// exactly), plus the shares of the two pixels the column's edges cut.</summary>
    static void HorizontalPass(ReadOnlySpan<byte> pixels, Segment[] columns, double span, double[] row)
    {
        for (int t = 0; t < Size; t++)
        {
            var (first, last, firstShare, lastShare) = columns[t];
            double r = firstShare * Over(pixels, first, 0), g = firstShare * Over(pixels, first, 1), b = firstShare * Over(pixels, first, 2);
            if (last > first)
            {
                long darkR = 0, darkG = 0, darkB = 0;
                for (int p = 4 * (first + 1); p < 4 * last; p += 4)
                {
                    int alpha = pixels[p + 3];
                    darkR += (255 - pixels[p]) * alpha;
                    darkG += (255 - pixels[p + 1]) * alpha;
                    darkB += (255 - pixels[p + 2]) * alpha;
                }
                double white = 255.0 * (last - first - 1);
                r += white - darkR / 255.0 + lastShare * Over(pixels, last, 0);
                g += white - darkG / 255.0 + lastShare * Over(pixels, last, 1);
                b += white - darkB / 255.0 + lastShare * Over(pixels, last, 2);
            }
            row[t] = r / span;
            row[Size + t] = g / span;
            row[2 * Size + t] = b / span;
        }
    }

    static double Over(ReadOnlySpan<byte> pixels, int x, int channel) =>
        255 - (255 - pixels[4 * x + channel]) * pixels[4 * x + 3] / 255.0;

    /// <summary>The source pixels under output pixel t along an axis: First..Last, of which the edge pixels count
    /// with the length of their overlap (the others whole).</summary>
    readonly record struct Segment(int First, int Last, double FirstShare, double LastShare)
    {
        public static Segment[] Along(int length)
        {
            double span = (double)length / Size;
            var segments = new Segment[Size];
            for (int t = 0; t < Size; t++)
            {
                double from = t * span, to = (t + 1) * span;
                int first = (int)Math.Floor(from), last = Math.Min(length - 1, (int)Math.Ceiling(to) - 1);
                segments[t] = first == last
                    ? new Segment(first, last, to - from, 0)
                    : new Segment(first, last, first + 1 - from, to - last);
            }
            return segments;
        }
    }

    /// <summary>Along one axis: source pixel s overlaps the output pixels Target[First[s]..First[s+1]), covering
    /// Weight of each (each output pixel's weights sum to 1).</summary>
    sealed record Overlaps(int[] First, int[] Target, double[] Weight)
    {
        public static Overlaps Along(int length)
        {
            double span = (double)length / Size; // source pixels per output pixel
            var first = new int[length + 1];
            var targets = new List<int>(length + Size);
            var weights = new List<double>(length + Size);
            for (int s = 0; s < length; s++)
            {
                first[s] = targets.Count;
                int from = (int)(s / span), to = Math.Min(Size - 1, (int)((s + 1) / span));
                for (int t = from; t <= to; t++)
                {
                    double overlap = Math.Min(s + 1, (t + 1) * span) - Math.Max(s, t * span);
                    if (overlap <= 0) continue;
                    targets.Add(t);
                    weights.Add(overlap / span);
                }
            }
            first[length] = targets.Count;
            return new Overlaps(first, targets.ToArray(), weights.ToArray());
        }
    }
}

/// <summary>An image that cannot be read; the other images of the same call are still answered.</summary>
public class ImageException(string message) : Exception(OneLine.Of(message));

/// <summary>An image too large to decode (the server answers 413).</summary>
public sealed class ImageTooLargeException(string message) : ImageException(message);
