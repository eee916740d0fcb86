using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Reporting;

/// <summary>Checks shared by the reporting tests.</summary>
internal static class ReportAssert
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The bytes are a PNG that SkiaSharp can decode, with a size a chart or grid could have.</summary>
    public static SKBitmap ValidPng(byte[] bytes, string what)
    {
        Assert.True(bytes.Length > 1000, $"{what}: only {bytes.Length} bytes");
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual(PngSignature), $"{what}: no PNG signature");
        var bitmap = SKBitmap.Decode(bytes);
        Assert.True(bitmap is not null, $"{what}: SkiaSharp could not decode it");
        Assert.InRange(bitmap.Width, 300, 4000);
        Assert.InRange(bitmap.Height, 60, 4000);
        return bitmap;
    }

    public static SKBitmap ValidPngFile(string path)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        return ValidPng(File.ReadAllBytes(path), Path.GetFileName(path));
    }

    /// <summary>Atomic writes rename their temporary files; none may be left behind.</summary>
    public static void NoTemporaryFiles(string directory) =>
        Assert.Empty(Directory.GetFiles(directory, "*.tmp", SearchOption.AllDirectories));
}

/// <summary>A fresh folder under the system temp directory, deleted afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } =
        Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cifar10-report-tests-" + Guid.NewGuid().ToString("N"))).FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { /* best effort */ }
    }
}
