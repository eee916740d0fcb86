using Cifar10.Data;
using SkiaSharp;
using Xunit;

namespace Cifar10.Tests.Data;

/// <summary>Writes ImageFolder layouts of small images: each class its own colour, in several formats and sizes.</summary>
static class ImageFolders
{
    public static readonly (string Name, SKColor Colour)[] Classes = [("cats", SKColors.Orange), ("dogs", SKColors.SaddleBrown), ("birds", SKColors.SkyBlue)];

    public static void Write(string root, int perClass, bool test = true)
    {
        foreach (var split in test ? new[] { "train", "test" } : ["train"])
            foreach (var (name, colour) in Classes)
            {
                var folder = Path.Combine(root, split, name);
                Directory.CreateDirectory(folder);
                for (int i = 0; i < perClass; i++)
                {
                    var format = (i % 3) switch { 0 => SKEncodedImageFormat.Png, 1 => SKEncodedImageFormat.Jpeg, _ => SKEncodedImageFormat.Webp };
                    File.WriteAllBytes(Path.Combine(folder, $"{i}.{format.ToString().ToLowerInvariant()}"), Image(colour, 20 + 7 * i, 30 + 3 * i, format));
                }
            }
    }

    public static byte[] Image(SKColor colour, int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(colour);
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }
}

public class ImageFolderTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    string Cache => temp.Combine("cache");

    [Fact]
    public void ClassesAreTheSortedFolderNamesAndEveryImageIsDecodedTo32By32()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 4);
        var folder = ImageFolder.Load(root, skipBadImages: false, Cache);
        Assert.Equal(["birds", "cats", "dogs"], folder.Manifest.ClassNames);
        using var train = folder.Read(test: false);
        using var test = folder.Read(test: true);
        Assert.Equal([12, 3, 32, 32], train.Images.shape);
        Assert.Equal(12, test.Count);
        // cats (label 1) are orange: a strong red channel, a weak blue one.
        var cat = train.Labels.data<long>().ToArray().ToList().IndexOf(1);
        Assert.True(train.Images[cat, 0].mean([0, 1], type: TorchSharp.torch.ScalarType.Float32).item<float>() > 200);
        Assert.True(train.Images[cat, 2].mean([0, 1], type: TorchSharp.torch.ScalarType.Float32).item<float>() < 60);
    }

    [Fact]
    public void TheSecondLoadReadsTheCacheAndAChangedFileIsDecodedAgain()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 3);
        var log = new List<string>();
        ImageFolder.Load(root, false, Cache, log: log.Add);
        ImageFolder.Load(root, false, Cache, log: log.Add);
        Assert.Single(log, line => line.StartsWith("Decoding"));
        Assert.True(Directory.Exists(Path.Combine(root, ImageFolder.CacheFolder)));

        var changed = Path.Combine(root, "train", "cats", "0.png");
        File.WriteAllBytes(changed, ImageFolders.Image(SKColors.Black, 25, 25, SKEncodedImageFormat.Png));
        File.SetLastWriteTimeUtc(changed, DateTime.UtcNow.AddMinutes(1));
        ImageFolder.Load(root, false, Cache, log: log.Add);
        Assert.Equal(2, log.Count(line => line.StartsWith("Decoding")));
    }

    [Fact]
    public void ABadImageStopsTheLoadByNameUnlessItIsSkipped()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 3);
        var bad = Path.Combine(root, "train", "dogs", "broken.png");
        File.WriteAllText(bad, "not an image");
        var e = Assert.Throws<DataException>(() => ImageFolder.Load(root, false, Cache));
        Assert.Contains(bad, e.Message);
        Assert.Contains("--skip-bad-images", e.Message);
        Assert.DoesNotContain("\n", e.Message);

        var folder = ImageFolder.Load(root, skipBadImages: true, Cache);
        Assert.Equal(1, folder.Skipped);
        using var train = folder.Read(test: false);
        Assert.Equal(9, train.Count);
    }

    [Fact]
    public void ASymbolicLinkLoopIsAnErrorNotMoreImages()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 2);
        var loop = Path.Combine(root, "train", "cats", "loop");
        Directory.CreateSymbolicLink(loop, ".."); // cats/loop/dogs/... would be more "cats"
        var e = Assert.Throws<DataException>(() => ImageFolder.Load(root, false, Cache));
        Assert.Equal($"{loop} leads back to {Path.Combine(root, "train")} (a symbolic link loop); remove the link", e.Message);
    }

    [Fact]
    public void ALinkThatWouldGiveImagesTwoLabelsIsAnError()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 2);
        Directory.CreateSymbolicLink(Path.Combine(root, "train", "cats", "more"), Path.Combine(root, "train", "dogs"));
        var e = Assert.Throws<DataException>(() => ImageFolder.Load(root, false, Cache));
        Assert.Contains("are the same folder (one reached through a symbolic link): its images would be read twice, under two labels", e.Message);
    }

    [Fact]
    public void LinkedFoldersElsewhereAreFollowed()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 2);
        var elsewhere = temp.Combine("more-cats");
        Directory.Move(Path.Combine(root, "train", "cats"), elsewhere);
        Directory.CreateSymbolicLink(Path.Combine(root, "train", "cats"), elsewhere);
        Directory.CreateDirectory(Path.Combine(elsewhere, "nested"));
        File.Copy(Path.Combine(elsewhere, "0.png"), Path.Combine(elsewhere, "nested", "extra.png"));
        var folder = ImageFolder.Load(root, false, Cache);
        using var train = folder.Read(test: false);
        Assert.Equal(7, train.Count);
        Assert.Equal(3, train.Labels.eq(1).sum().item<long>()); // cats: two images and the nested one
    }

    [Fact]
    public void ACacheThatDoesNotMatchItsChecksumIsDecodedAgain()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 3);
        ImageFolder.Load(root, false, Cache);
        var bin = Directory.GetFiles(Path.Combine(root, ImageFolder.CacheFolder), "*.bin").Single();
        var bytes = File.ReadAllBytes(bin);
        Array.Clear(bytes, 0, 4 * 9); // every training label rewritten to class 0
        File.WriteAllBytes(bin, bytes);

        var log = new List<string>();
        var folder = ImageFolder.Load(root, false, Cache, log: log.Add);
        Assert.Contains(log, line => line.Contains("do not match their checksum; decoding them again"));
        Assert.Contains(log, line => line.StartsWith("Decoding"));
        using var train = folder.Read(test: false);
        Assert.Equal([0L, 0, 0, 1, 1, 1, 2, 2, 2], train.Labels.data<long>().ToArray());
    }

    [Theory]
    [InlineData("empty", "holds no images")]
    [InlineData("single", "at least 2")]
    [InlineData("stray", "lies directly in")]
    [InlineData("notrain", "has no train/ folder")]
    [InlineData("testonly", "class folders that")]
    public void LayoutMistakesAreClearErrors(string mistake, string message)
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 2);
        switch (mistake)
        {
            case "empty": Directory.CreateDirectory(Path.Combine(root, "train", "fish")); break;
            case "single":
                Directory.Delete(Path.Combine(root, "train", "dogs"), true);
                Directory.Delete(Path.Combine(root, "train", "birds"), true);
                break;
            case "stray": File.Copy(Path.Combine(root, "train", "cats", "0.png"), Path.Combine(root, "train", "stray.png")); break;
            case "notrain": Directory.Delete(Path.Combine(root, "train"), true); break;
            case "testonly": Directory.CreateDirectory(Path.Combine(root, "test", "horses")); break;
        }
        var e = Assert.Throws<DataException>(() => ImageFolder.Load(root, false, Cache));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void WithoutATestFolderTheTestSizeHoldsOutASeededTestSet()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 10, test: false);
        var request = new DataRequest { Data = root, Download = new DownloadOptions { CacheDir = Cache } };
        Assert.Contains("--test-size", Assert.Throws<ConfigException>(() => DataSource.Open(request)).Message);

        var source = DataSource.Open(request with { TestSize = 6, Seed = 3 });
        Assert.Equal(DatasetKind.Folder, source.Kind); // auto: the layout says so
        using var train = source.ReadTrain();
        using var test = source.ReadTest();
        using var again = DataSource.Open(request with { TestSize = 6, Seed = 3 }).ReadTest();
        Assert.Equal((24, 6), (train.Count, test.Count));
        Assert.True(test.Images.eq(again.Images).all().item<bool>());
        // Image folders are normalised with their own statistics, not CIFAR-10's.
        var normalization = source.NormalizationOf(train);
        Assert.NotEqual(Normalization.Cifar10, normalization);
        Assert.InRange(normalization.Mean[0], 0.3f, 1f);
    }
}
