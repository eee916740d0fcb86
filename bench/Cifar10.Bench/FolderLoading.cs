using System.Diagnostics;
using System.Globalization;
using Cifar10.Data;
using SkiaSharp;

namespace Cifar10.Bench;

/// <summary>An image folder of CIFAR-10's 60,000 images as PNG files, and how fast it loads: decoded
/// (no cache yet) and read back from its cache. Prints CSV: phase,files,seconds,images_per_s</summary>
static class FolderLoading
{
    /// <summary>Writes OUT/train/CLASS/N.png and OUT/test/CLASS/N.png from the CIFAR-10 binary data.</summary>
    public static int Write(string data, string output)
    {
        var located = DataLocator.Resolve(data, BinaryLayout.Cifar10, new DownloadOptions { AllowDownload = false });
        foreach (var (split, set) in new[] { ("train", CifarBinary.ReadTrain(located.Folder, BinaryLayout.Cifar10)), ("test", CifarBinary.ReadTest(located.Folder, BinaryLayout.Cifar10)) })
            using (set)
            {
                var pixels = set.Images.contiguous().data<byte>().ToArray();
                var labels = set.Labels.data<long>().ToArray();
                Parallel.For(0, set.Count, i =>
                {
                    var folder = Path.Combine(output, split, set.ClassNames[(int)labels[i]]);
                    Directory.CreateDirectory(folder);
                    using var bitmap = new SKBitmap(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque);
                    for (int y = 0; y < 32; y++)
                        for (int x = 0; x < 32; x++)
                        {
                            int p = i * 3072 + y * 32 + x;
                            bitmap.SetPixel(x, y, new SKColor(pixels[p], pixels[p + 1024], pixels[p + 2048]));
                        }
                    using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                    File.WriteAllBytes(Path.Combine(folder, $"{i:00000}.png"), png.ToArray());
                });
            }
        return 0;
    }

    public static int Measure(string root)
    {
        var cache = Path.Combine(Path.GetTempPath(), "cifar10-bench-folder-cache");
        if (Directory.Exists(Path.Combine(root, ImageFolder.CacheFolder))) Directory.Delete(Path.Combine(root, ImageFolder.CacheFolder), recursive: true);
        if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        Console.WriteLine("phase,files,seconds,images_per_s");
        foreach (var phase in new[] { "decode (no cache)", "cached" })
        {
            var clock = Stopwatch.StartNew();
            var folder = ImageFolder.Load(root, skipBadImages: false, cache);
            using var train = folder.Read(test: false);
            using var test = folder.Read(test: true);
            double seconds = clock.Elapsed.TotalSeconds;
            int files = train.Count + test.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{phase},{files},{seconds:F2},{files / seconds:F0}"));
        }
        return 0;
    }
}
