namespace Cifar10.Data;

/// <summary>
/// A data set in the CIFAR binary format: records of label byte(s) followed by the red, green and
/// blue 32×32 planes, row-major, in fixed files inside one folder, with one class-name file per
/// label byte. CIFAR-10 has one label byte; CIFAR-100 two (coarse, then fine), and which one is the
/// class is <see cref="LabelIndex"/>.
/// </summary>
internal sealed record BinaryLayout
{
    /// <summary>"CIFAR-10", for messages.</summary>
    public required string Name { get; init; }
    /// <summary>The folder the archive holds the files in, and the name its extraction gets.</summary>
    public required string FolderName { get; init; }
    public required string ArchiveFileName { get; init; }
    /// <summary>The environment variable that names this data set's location when --data is not given.</summary>
    public required string EnvironmentVariable { get; init; }
    public required string OfficialUrl { get; init; }
    public required string OfficialMd5 { get; init; }
    public required IReadOnlyList<string> TrainFiles { get; init; }
    public required string TestFile { get; init; }
    public required int RecordsPerTrainFile { get; init; }
    public required int TestRecords { get; init; }
    /// <summary>One class-name file per label byte, in record order.</summary>
    public required IReadOnlyList<string> ClassNameFiles { get; init; }
    /// <summary>How many classes each label byte counts, in record order.</summary>
    public required IReadOnlyList<int> ClassCounts { get; init; }
    /// <summary>Which label byte is the class.</summary>
    public int LabelIndex { get; init; }

    public int LabelBytes => ClassCounts.Count;
    public int RecordBytes => LabelBytes + ImageDataset.ImageBytes;
    public int ClassCount => ClassCounts[LabelIndex];
    public string ClassNamesFile => ClassNameFiles[LabelIndex];
    public IEnumerable<string> BatchFiles => TrainFiles.Append(TestFile);
    public IReadOnlyList<string> AllFiles => [.. BatchFiles, .. ClassNameFiles];
    public int Records(string batchFile) => batchFile == TestFile ? TestRecords : RecordsPerTrainFile;

    public static BinaryLayout Cifar10 { get; } = new()
    {
        Name = "CIFAR-10",
        FolderName = "cifar-10-batches-bin",
        ArchiveFileName = "cifar-10-binary.tar.gz",
        EnvironmentVariable = "CIFAR10_DATA",
        OfficialUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        OfficialMd5 = "c32a1d4ab5d03f1284b67883e8d87530",
        TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        TestFile = "test_batch.bin",
        RecordsPerTrainFile = 10_000,
        TestRecords = 10_000,
        ClassNameFiles = ["batches.meta.txt"],
        ClassCounts = [10],
    };

    /// <summary>CIFAR-100 with its 100 fine classes (the usual benchmark).</summary>
    public static BinaryLayout Cifar100Fine { get; } = new()
    {
        Name = "CIFAR-100",
        FolderName = "cifar-100-binary",
        ArchiveFileName = "cifar-100-binary.tar.gz",
        EnvironmentVariable = "CIFAR100_DATA",
        OfficialUrl = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
        OfficialMd5 = "03b5dce01913d631647c71ecec9e9cb8",
        TrainFiles = ["train.bin"],
        TestFile = "test.bin",
        RecordsPerTrainFile = 50_000,
        TestRecords = 10_000,
        ClassNameFiles = ["coarse_label_names.txt", "fine_label_names.txt"],
        ClassCounts = [20, 100],
        LabelIndex = 1,
    };

    /// <summary>CIFAR-100 with its 20 coarse classes (superclasses).</summary>
    public static BinaryLayout Cifar100Coarse { get; } = Cifar100Fine with { LabelIndex = 0 };

    /// <summary>The same layout with other record counts: for tests, which write small files.</summary>
    public BinaryLayout WithRecords(int perTrainFile, int test) => this with { RecordsPerTrainFile = perTrainFile, TestRecords = test };
}
