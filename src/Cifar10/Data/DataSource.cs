namespace Cifar10.Data;

/// <summary>Which data set --data holds. Auto: an image folder when the folder has the ImageFolder layout, else CIFAR-10.</summary>
public enum DatasetKind
{
    /// <summary>An image folder when --data names a folder with a train/ folder of class folders, else CIFAR-10.</summary>
    Auto,
    /// <summary>CIFAR-10 in its binary format (cifar-10-binary.tar.gz or its extracted cifar-10-batches-bin).</summary>
    Cifar10,
    /// <summary>CIFAR-100 in its binary format (cifar-100-binary.tar.gz), with the labels of <see cref="LabelKind"/>.</summary>
    Cifar100,
    /// <summary>Images in class folders, as torchvision's ImageFolder lays them out: <c>ROOT/train/CLASS/*</c>, optionally <c>ROOT/test/CLASS/*</c>.</summary>
    Folder,
}

/// <summary>CIFAR-100's two labellings: 100 fine classes, or their 20 coarse superclasses.</summary>
public enum LabelKind
{
    /// <summary>The 100 classes (the usual benchmark).</summary>
    Fine,
    /// <summary>The 20 superclasses.</summary>
    Coarse,
}

/// <summary>What data a command reads: where (<see cref="Data"/>), which kind, and how its test split is made.</summary>
public sealed record DataRequest
{
    /// <summary>--data as given (an archive, a folder holding it, an extracted or image folder), or null for the environment variable, then the cache.</summary>
    public string? Data { get; init; }
    /// <summary>Which data set <see cref="Data"/> holds; <see cref="DatasetKind.Auto"/> tells from its layout.</summary>
    public DatasetKind Dataset { get; init; } = DatasetKind.Auto;
    /// <summary>CIFAR-100's labelling; anything but <see cref="LabelKind.Fine"/> for another data set is a <see cref="ConfigException"/>.</summary>
    public LabelKind Labels { get; init; } = LabelKind.Fine;
    /// <summary>Image folders without a test/ folder: how many training images to hold out as the test set (seeded by <see cref="Seed"/>).</summary>
    public int TestSize { get; init; }
    /// <summary>Image folders: leave out (and count) files that cannot be decoded instead of stopping.</summary>
    public bool SkipBadImages { get; init; }
    /// <summary>The run's seed, from which the held-out test split of <see cref="TestSize"/> is drawn (a stream of its own, so it never coincides with the validation split).</summary>
    public long Seed { get; init; }
    /// <summary>Where a missing archive is downloaded from and where archives are extracted and image folders cached.</summary>
    public DownloadOptions Download { get; init; } = new();
}

/// <summary>
/// A data set, located and validated: its kind, files and checksums, class names, and its splits
/// (each read when asked for, owned by the caller). CIFAR-10 and CIFAR-100 come in their binary
/// format; image folders are decoded once and cached.
/// </summary>
public abstract class DataSource
{
    /// <summary>The resolved kind (never Auto).</summary>
    public abstract DatasetKind Kind { get; }
    /// <summary>"CIFAR-10", "CIFAR-100 (fine labels)", "image folder": for messages.</summary>
    public abstract string Name { get; }
    /// <summary>The folder the data was read from, recorded beside every run's results.</summary>
    public abstract string Folder { get; }
    /// <summary>The SHA-256 of the data's files (or of an image folder's decoded cache), recorded in config.json so that a run says exactly what it trained on.</summary>
    public abstract DataFingerprint Fingerprint { get; }
    /// <summary>The class names, in label order: the network's output <c>i</c> is class <c>ClassNames[i]</c>.</summary>
    public abstract IReadOnlyList<string> ClassNames { get; }
    /// <summary>Reads the whole training split into memory; the caller owns (and disposes) the result.</summary>
    public abstract ImageDataset ReadTrain();
    /// <summary>Reads the test split into memory; the caller owns (and disposes) the result.</summary>
    public abstract ImageDataset ReadTest();

    /// <summary>The statistics a network trained on this data normalises with: CIFAR-10's published ones,
    /// else those of the training images (<paramref name="train"/>, the whole training split).</summary>
    public virtual Normalization NormalizationOf(ImageDataset train) => Normalization.Of(train.Images);

    /// <summary>Locates and validates the requested data (downloading, extracting or decoding as needed).</summary>
    public static DataSource Open(DataRequest request, CancellationToken cancellation = default)
    {
        var kind = request.Dataset;
        if (kind == DatasetKind.Auto)
            kind = request.Data is { } given && Directory.Exists(given) && ImageFolder.LooksLike(given) ? DatasetKind.Folder : DatasetKind.Cifar10;
        if (request.Labels != LabelKind.Fine && kind != DatasetKind.Cifar100)
            throw new ConfigException($"--labels {request.Labels.ToString().ToLowerInvariant()} is for CIFAR-100 (--dataset cifar100)");
        if (request.TestSize > 0 && kind != DatasetKind.Folder)
            throw new ConfigException("--test-size holds a test set out of an image folder without one; CIFAR-10 and CIFAR-100 have their own");
        if (request.SkipBadImages && kind != DatasetKind.Folder)
            throw new ConfigException("--skip-bad-images is for image folders; the CIFAR binary files are validated whole");
        return kind switch
        {
            DatasetKind.Cifar10 => new BinarySource(DatasetKind.Cifar10, BinaryLayout.Cifar10, request, cancellation),
            DatasetKind.Cifar100 => new BinarySource(DatasetKind.Cifar100,
                request.Labels == LabelKind.Coarse ? BinaryLayout.Cifar100Coarse : BinaryLayout.Cifar100Fine, request, cancellation),
            DatasetKind.Folder => new FolderSource(request, cancellation),
            _ => throw new ArgumentOutOfRangeException(nameof(request), kind, "unknown data set kind"),
        };
    }

    sealed class BinarySource : DataSource
    {
        readonly BinaryLayout layout;
        readonly LocatedData located;

        public BinarySource(DatasetKind kind, BinaryLayout layout, DataRequest request, CancellationToken cancellation)
        {
            Kind = kind;
            this.layout = layout;
            located = DataLocator.Resolve(request.Data, layout, request.Download, cancellation);
            ClassNames = CifarBinary.ReadClassNames(located.Folder, layout);
        }

        public override DatasetKind Kind { get; }
        public override string Name => layout == BinaryLayout.Cifar10 ? layout.Name : $"{layout.Name} ({(layout.LabelIndex == 0 ? "coarse" : "fine")} labels)";
        public override string Folder => located.Folder;
        public override DataFingerprint Fingerprint => located.Fingerprint;
        public override IReadOnlyList<string> ClassNames { get; }
        public override ImageDataset ReadTrain() => CifarBinary.ReadTrain(located.Folder, layout);
        public override ImageDataset ReadTest() => CifarBinary.ReadTest(located.Folder, layout);

        // Published with the data set and used by every CIFAR-10 write-up; kept so results compare.
        public override Normalization NormalizationOf(ImageDataset train) =>
            Kind == DatasetKind.Cifar10 ? Normalization.Cifar10 : base.NormalizationOf(train);
    }

    sealed class FolderSource : DataSource
    {
        readonly DecodedFolder decoded;
        readonly DataRequest request;

        public FolderSource(DataRequest request, CancellationToken cancellation)
        {
            this.request = request;
            var root = request.Data is { } given && Directory.Exists(given)
                ? Path.GetFullPath(given)
                : throw new DataException($"an image folder data set needs --data ROOT (a folder with {ImageFolder.TrainFolder}/CLASS/ subfolders){(request.Data is null ? "" : $"; {request.Data} is not a folder")}");
            decoded = ImageFolder.Load(root, request.SkipBadImages, request.Download.CacheDir, request.Download.DecodeProgress, request.Download.Log, cancellation);
            Folder = root;
            var manifest = decoded.Manifest;
            if (manifest.HasTestFolder && request.TestSize > 0)
                throw new ConfigException($"{root} has a {ImageFolder.TestFolder}/ folder; --test-size holds one out only where there is none");
            if (!manifest.HasTestFolder && request.TestSize <= 0)
                throw new ConfigException($"{root} has no {ImageFolder.TestFolder}/ folder: add one (ROOT/{ImageFolder.TestFolder}/CLASS/*) or hold one out with --test-size N");
            if (decoded.Skipped > 0) request.Download.Log?.Invoke($"skipped {decoded.Skipped:N0} files that cannot be decoded (--skip-bad-images); the first: {manifest.BadFiles[0]}");
            // The cache's content identifies the data: the decoded pixels and labels are what trains.
            Fingerprint = DataFingerprint.Of(new Dictionary<string, string> { ["images"] = Sha256(decoded) });
        }

        public override DatasetKind Kind => DatasetKind.Folder;
        public override string Name => "image folder";
        public override string Folder { get; }
        public override DataFingerprint Fingerprint { get; }
        public override IReadOnlyList<string> ClassNames => decoded.Manifest.ClassNames;

        public override ImageDataset ReadTrain() => decoded.Manifest.HasTestFolder ? decoded.Read(test: false) : Carve(keepTest: false);
        public override ImageDataset ReadTest() => decoded.Manifest.HasTestFolder ? decoded.Read(test: true) : Carve(keepTest: true);

        /// <summary>One part of the seeded split of the training images into training and held-out test images.</summary>
        ImageDataset Carve(bool keepTest)
        {
            using var all = decoded.Read(test: false);
            if (request.TestSize >= all.Count)
                throw new ConfigException($"--test-size {request.TestSize:N0} leaves no training images of the {all.Count:N0} in the folder");
            var (train, test) = Split.TrainValidation(all, request.TestSize, SeedOf(request.Seed));
            (keepTest ? train : test).Dispose();
            return keepTest ? test : train;
        }

        // Its own stream of the seed: the test split must not coincide with the validation split drawn later.
        static long SeedOf(long seed) => unchecked(seed * 6364136223846793005L + 1442695040888963407L) & long.MaxValue;

        static string Sha256(DecodedFolder folder)
        {
            using var stream = File.OpenRead(folder.CacheFile);
            return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        }
    }
}
