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
        var source = DataSource.Open(new DataRequest { Data = data, Dataset = DatasetKind.Cifar10, Download = new DownloadOptions { AllowDownload = false } });
        foreach (var (split, set) in new[] { ("train", source.ReadTrain()), ("test", source.ReadTest()) })
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

    /// <summary>The cache of decoded images the library keeps beside an image folder (docs/cli.md, image folders).</summary>
    const string CacheBesideData = ".cifar10-cache";

    /// <summary>Opens the folder as `train --data ROOT` does (decoding, caching and fingerprinting it) and reads both splits.</summary>
    public static int Measure(string root)
    {
        var cache = Path.Combine(Path.GetTempPath(), "cifar10-bench-folder-cache");
        if (Directory.Exists(Path.Combine(root, CacheBesideData))) Directory.Delete(Path.Combine(root, CacheBesideData), recursive: true);
        if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        Console.WriteLine("phase,files,seconds,images_per_s");
        foreach (var phase in new[] { "decode (no cache)", "cached" })
        {
            var clock = Stopwatch.StartNew();
            var folder = DataSource.Open(new DataRequest { Data = root, Dataset = DatasetKind.Folder, Download = new DownloadOptions { CacheDir = cache } });
            using var train = folder.ReadTrain();
            using var test = folder.ReadTest();
            double seconds = clock.Elapsed.TotalSeconds;
            int files = train.Count + test.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{phase},{files},{seconds:F2},{files / seconds:F0}"));
        }
        return 0;
    }
}
