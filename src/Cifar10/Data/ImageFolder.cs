using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Cifar10.Data;

/// <summary>Decoding progress of an image folder: files done of all files.</summary>
/// <param name="Done">The files decoded so far.</param>
/// <param name="Total">The files to decode.</param>
public readonly record struct DecodeProgress(int Done, int Total);

/// <summary>
/// A data set as torchvision's ImageFolder lays it out: <c>ROOT/train/CLASS/*</c> and, optionally,
/// <c>ROOT/test/CLASS/*</c>; class names are the folder names, sorted. Every image (PNG, JPEG, BMP,
/// WebP, GIF's first frame; any size and colour mode) is decoded as <c>predict</c> decodes it, in
/// parallel on every core, into one uint8 tensor. The result is cached (beside the data when that
/// folder is writable, else in the cache folder), keyed by a hash of the file list, sizes and
/// modification times, so a second run reads it back in seconds and any change decodes again; the
/// cache is checksummed, and one that does not match (damaged, or its labels rewritten) is decoded
/// again too. Symbolic links are followed, but no folder is read twice.
/// </summary>
internal static class ImageFolder
{
    public const string TrainFolder = "train", TestFolder = "test";
    /// <summary>The cache's name beside the data.</summary>
    public const string CacheFolder = ".cifar10-cache";
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"];
    /// <summary>Part of the cache key: a change in how images are decoded invalidates every cache.</summary>
    const string DecoderVersion = ImageFile.DecoderVersion;

    /// <summary>Whether <paramref name="folder"/> has the layout (a train/ folder with class folders in it).</summary>
    public static bool LooksLike(string folder) =>
        Directory.Exists(Path.Combine(folder, TrainFolder)) && Directory.EnumerateDirectories(Path.Combine(folder, TrainFolder)).Any();

    /// <summary>
    /// The folder's images, decoded (or read back from the cache). A file that cannot be decoded is a
    /// <see cref="DataException"/> naming it, unless <paramref name="skipBadImages"/>: then it is left
    /// out and counted in <see cref="DecodedFolder.Skipped"/>.
    /// </summary>
    public static DecodedFolder Load(string root, bool skipBadImages, string cacheDir, IProgress<DecodeProgress>? progress = null,
                                     Action<string>? log = null, CancellationToken cancellation = default)
    {
        var listing = List(root);
        var key = CacheKey(listing);
        var cache = FindCache(root, cacheDir, key, log) ?? Decode(root, listing, key, cacheDir, progress, log, cancellation);
        var bad = cache.Manifest.BadFiles;
        if (bad.Count > 0 && !skipBadImages)
            throw new DataException($"{bad[0]}{(bad.Count > 1 ? $" (and {bad.Count - 1:N0} more files that cannot be decoded)" : "")}; pass --skip-bad-images to train without them");
        return cache;
    }

    /// <summary>The files of the layout, checked: class folders of train/ (and test/), no stray files.</summary>
    internal static FolderListing List(string root)
    {
        var train = Path.Combine(root, TrainFolder);
        if (!Directory.Exists(train))
            throw new DataException($"{root} has no {TrainFolder}/ folder: an image folder data set is ROOT/{TrainFolder}/CLASS/*.png (and ROOT/{TestFolder}/CLASS/*.png)");
        var classes = ClassFolders(train);
        if (classes.Count < 2)
            throw new DataException($"{train} has {classes.Count} class folder{(classes.Count == 1 ? "" : "s")}; a classifier needs at least 2 (one folder per class)");
        var files = new List<(string Path, int Label, bool Test)>();
        AddImages(train, classes, test: false, files);
        var test = Path.Combine(root, TestFolder);
        bool hasTest = Directory.Exists(test);
        if (hasTest)
        {
            var unknown = ClassFolders(test).Except(classes).ToList();
            if (unknown.Count > 0)
                throw new DataException($"{test} has class folders that {train} has not: {string.Join(", ", unknown)}");
            AddImages(test, classes, test: true, files);
        }
        return new FolderListing(classes, files, hasTest);
    }

    static List<string> ClassFolders(string split)
    {
        var stray = Directory.EnumerateFiles(split).Where(IsImage).Take(1).ToList();
        if (stray.Count > 0)
            throw new DataException($"{stray[0]} lies directly in {split}; put every image in a class folder ({split}/CLASS/)");
        return Directory.EnumerateDirectories(split).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToList()!;
    }

    static void AddImages(string split, IReadOnlyList<string> classes, bool test, List<(string, int, bool)> files)
    {
        // Each folder of the split is read once: a symbolic link back to a folder already read (a loop, or a
        // second name for a class folder) would multiply its images, under the wrong label.
        var visited = new Dictionary<FolderIdentity, string> { [FolderIdentity.Of(split)] = split };
        for (int label = 0; label < classes.Count; label++)
        {
            var folder = Path.Combine(split, classes[label]);
            if (!Directory.Exists(folder)) continue; // a test split may lack a class
            var images = new List<string>();
            Walk(folder, visited, images);
            if (images.Count == 0)
                throw new DataException($"class folder {folder} holds no images ({string.Join(", ", Extensions)})");
            files.AddRange(images.Order(StringComparer.Ordinal).Select(path => (path, label, test)));
        }
    }

    static void Walk(string folder, Dictionary<FolderIdentity, string> visited, List<string> images)
    {
        var identity = FolderIdentity.Of(folder);
        if (!visited.TryAdd(identity, folder))
        {
            var first = visited[identity];
            throw new DataException(folder.StartsWith(first + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                ? $"{folder} leads back to {first} (a symbolic link loop); remove the link"
                : $"{folder} and {first} are the same folder (one reached through a symbolic link): its images would be read twice, " +
                  "under two labels; remove the link");
        }
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        images.AddRange(Directory.EnumerateFiles(folder, "*", options).Where(IsImage));
        foreach (var sub in Directory.EnumerateDirectories(folder, "*", options).Order(StringComparer.Ordinal))
            Walk(sub, visited, images);
    }

    static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The hash of every file's path, size and modification time, and of the decoder.</summary>
    static string CacheKey(FolderListing listing)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(DecoderVersion + "\n"));
        foreach (var (path, label, test) in listing.Files)
        {
            var info = new FileInfo(path);
            sha.AppendData(Encoding.UTF8.GetBytes($"{path}\t{label}\t{test}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}\n"));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..32];
    }

    static IEnumerable<string> CacheLocations(string root, string cacheDir, string key) =>
        [Path.Combine(root, CacheFolder, key), Path.Combine(cacheDir, "folders", key)];

    /// <summary>A cache of this listing whose checksum matches; a damaged or altered one is decoded again.</summary>
    static DecodedFolder? FindCache(string root, string cacheDir, string key, Action<string>? log)
    {
        foreach (var stem in CacheLocations(root, cacheDir, key))
            if (File.Exists(stem + ".json") && File.Exists(stem + ".bin"))
            {
                try
                {
                    var manifest = JsonSerializer.Deserialize<CacheManifest>(File.ReadAllText(stem + ".json"), JsonFiles.Options)!;
                    if (new FileInfo(stem + ".bin").Length == manifest.Count * (4L + ImageDataset.ImageBytes)
                        && Checksum(stem + ".bin", manifest) == manifest.Sha256)
                        return new DecodedFolder(stem + ".bin", manifest);
                }
                catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
                {
                    // A damaged or unreadable cache is decoded again.
                }
                log?.Invoke($"the decoded images of {root} in {stem}.bin do not match their checksum; decoding them again");
            }
        return null;
    }

    /// <summary>SHA-256 of the cache's labels and pixels and of everything its manifest says besides the checksum.</summary>
    static string Checksum(string binFile, CacheManifest manifest)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var file = new FileStream(binFile, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1))
        {
            var buffer = new byte[1 << 20];
            int read;
            while ((read = file.Read(buffer)) > 0) sha.AppendData(buffer, 0, read);
        }
        sha.AppendData(JsonSerializer.SerializeToUtf8Bytes(manifest with { Sha256 = "" }, JsonFiles.Options));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static DecodedFolder Decode(string root, FolderListing listing, string key, string cacheDir, IProgress<DecodeProgress>? progress,
                                Action<string>? log, CancellationToken cancellation)
    {
        int total = listing.Files.Count;
        log?.Invoke($"Decoding {total:N0} images of {root} on {Environment.ProcessorCount} cores (cached for the next run)");
        var pixels = GC.AllocateUninitializedArray<byte>(checked(total * ImageDataset.ImageBytes));
        var errors = new string?[total];
        int done = 0;
        progress?.Report(new DecodeProgress(0, total));
        Parallel.For(0, total, new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try
            {
                ImageFile.LoadAsCifar(listing.Files[i].Path).CopyTo(pixels.AsSpan(i * ImageDataset.ImageBytes, ImageDataset.ImageBytes));
            }
            catch (ImageException e)
            {
                errors[i] = e.Message;
            }
            int count = Interlocked.Increment(ref done);
            if (count % Math.Max(1, total / 100) == 0 || count == total) progress?.Report(new DecodeProgress(count, total));
        });

        // The good images, in listing order: labels (int32, little-endian) first, then the pixels.
        var kept = Enumerable.Range(0, total).Where(i => errors[i] is null).ToList();
        var manifest = new CacheManifest
        {
            Root = Path.GetFullPath(root),
            ClassNames = listing.ClassNames,
            Count = kept.Count,
            TestCount = kept.Count(i => listing.Files[i].Test),
            HasTestFolder = listing.HasTest,
            BadFiles = errors.Where(e => e is not null).ToList()!,
        };
        // Training images first, test images after, each in listing order.
        var order = kept.Where(i => !listing.Files[i].Test).Concat(kept.Where(i => listing.Files[i].Test)).ToList();
        void WriteCache(Stream stream)
        {
            var label = new byte[4];
            foreach (var i in order)
            {
                BitConverter.TryWriteBytes(label, listing.Files[i].Label);
                stream.Write(label);
            }
            foreach (var i in order)
                stream.Write(pixels, i * ImageDataset.ImageBytes, ImageDataset.ImageBytes);
        }
        foreach (var stem in CacheLocations(root, cacheDir, key))
        {
            try
            {
                AtomicFile.Write(stem + ".bin", WriteCache);
                var checksummed = manifest with { Sha256 = Checksum(stem + ".bin", manifest) };
                AtomicFile.WriteJson(stem + ".json", checksummed); // last: the manifest says the cache is whole
                return new DecodedFolder(stem + ".bin", checksummed);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log?.Invoke($"cannot cache the decoded images in {Path.GetDirectoryName(stem)} ({e.Message}); trying the next place");
            }
        }
        throw new DataException($"the decoded images of {root} cannot be cached in {root}/{CacheFolder} nor in {cacheDir}/folders");
    }

    /// <summary>What a folder is, whatever the path it is reached by: device and inode (statx), else its resolved path.</summary>
    readonly record struct FolderIdentity(ulong Device, ulong Inode, string? Path)
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        static extern int StatX(int directory, string path, int flags, uint mask, byte[] result);

        const int CurrentDirectory = -100;  // AT_FDCWD
        const uint InodeField = 0x100;      // STATX_INO
        const int InodeOffset = 32, DeviceMajorOffset = 136, DeviceMinorOffset = 140; // stx_ino, stx_dev_major, stx_dev_minor

        static bool noStatX = !OperatingSystem.IsLinux();

        public static FolderIdentity Of(string folder)
        {
            if (!noStatX)
            {
                try
                {
                    var buffer = new byte[256];
                    if (StatX(CurrentDirectory, folder, 0, InodeField, buffer) == 0)
                        return new(((ulong)BitConverter.ToUInt32(buffer, DeviceMajorOffset) << 32) | BitConverter.ToUInt32(buffer, DeviceMinorOffset),
                                   BitConverter.ToUInt64(buffer, InodeOffset), null);
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    noStatX = true;
                }
            }
            var info = new DirectoryInfo(folder);
            return new(0, 0, (info.ResolveLinkTarget(returnFinalTarget: true) ?? info).FullName);
        }
    }

    internal sealed record FolderListing(IReadOnlyList<string> ClassNames, IReadOnlyList<(string Path, int Label, bool Test)> Files, bool HasTest);
}

/// <summary>What a decoded folder's cache records beside its pixels.</summary>
internal sealed record CacheManifest
{
    public string Root { get; init; } = "";
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>Images in the cache: the training ones first, then <see cref="TestCount"/> test ones.</summary>
    public int Count { get; init; }
    public int TestCount { get; init; }
    public bool HasTestFolder { get; init; }
    /// <summary>The files that could not be decoded, each with the reason ("PATH: the image is truncated ...").</summary>
    public IReadOnlyList<string> BadFiles { get; init; } = [];
    /// <summary>SHA-256 of the cache file and of this manifest's other values: a cache that does not match is decoded again.</summary>
    public string Sha256 { get; init; } = "";
}

/// <summary>A decoded image folder in its cache file; the splits are read from it on demand.</summary>
internal sealed class DecodedFolder(string cacheFile, CacheManifest manifest)
{
    public CacheManifest Manifest { get; } = manifest;
    /// <summary>The labels (int32) and pixels of every image, the training ones first.</summary>
    public string CacheFile { get; } = cacheFile;
    public int Skipped => Manifest.BadFiles.Count;

    /// <summary>The training images (test: false) or the test folder's images (test: true).</summary>
    public ImageDataset Read(bool test)
    {
        int trainCount = Manifest.Count - Manifest.TestCount;
        int first = test ? trainCount : 0, count = test ? Manifest.TestCount : trainCount;
        using var scope = NewDisposeScope();
        var images = empty([count, ImageDataset.Channels, ImageDataset.ImageSize, ImageDataset.ImageSize], dtype: ScalarType.Byte);
        var labels = new long[count];
        using (var file = new FileStream(CacheFile, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20))
        {
            var labelBytes = new byte[4 * count];
            file.Position = 4L * first;
            file.ReadExactly(labelBytes);
            for (int i = 0; i < count; i++) labels[i] = BitConverter.ToInt32(labelBytes, 4 * i);
            file.Position = 4L * Manifest.Count + (long)first * ImageDataset.ImageBytes;
            file.ReadExactly(images.bytes);
        }
        return new ImageDataset(images, tensor(labels), Manifest.ClassNames);
    }
}
