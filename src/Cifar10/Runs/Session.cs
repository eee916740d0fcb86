using Cifar10.Data;
using Cifar10.Runtime;
using Cifar10.Training;
using static TorchSharp.torch;

namespace Cifar10.Runs;

/// <summary>Where a command runs and which data it reads.</summary>
public sealed record SessionOptions
{
    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>libtorch intra-op threads; 0 keeps libtorch's default (one per core).</summary>
    public int Threads { get; init; }
    /// <summary>The data set the session reads (found, downloaded and validated on first use).</summary>
    public DataRequest Data { get; init; } = new();
}

/// <summary>The training and validation images of a run, each held once, and the statistics they are normalised with.</summary>
/// <param name="Train">The images trained on (after the validation split and the subset).</param>
/// <param name="Validation">The images held out for validation (empty without a validation set).</param>
/// <param name="Normalization">The statistics of the whole training split, which the network normalises its inputs with.</param>
public sealed record TrainingData(ImageDataset Train, ImageDataset Validation, Normalization Normalization);

/// <summary>
/// The one entry point that prepares what every command computes with (train, eval, report,
/// lr-find, predict, sweep): the device and its threads, the data set (located, validated,
/// decoded and read on first use, each split held once), and networks (new for a config, or
/// from a checkpoint). It owns the data it reads; dispose it when done.
/// </summary>
public sealed class Session : IDisposable
{
    readonly SessionOptions options;
    readonly CancellationToken cancellation;
    DataSource? data;
    ImageDataset? test;
    TrainingData? training;

    Session(SessionOptions options, Device device, CancellationToken cancellation)
    {
        this.options = options;
        this.cancellation = cancellation;
        Device = device;
    }

    /// <summary>Sets the thread count and resolves the device; nothing is read yet.</summary>
    public static Session Open(SessionOptions options, CancellationToken cancellation = default)
    {
        DeviceSetup.SetThreads(options.Threads);
        return new Session(options, DeviceSetup.Resolve(options.Device), cancellation);
    }

    /// <summary>The compute device every network of the session is put on.</summary>
    public Device Device { get; }

    /// <summary>The data set, located and validated (downloaded, extracted or decoded on first use).</summary>
    public DataSource Data => data ??= DataSource.Open(options.Data, cancellation);

    /// <summary>The data set's class names, in label order.</summary>
    public IReadOnlyList<string> ClassNames => Data.ClassNames;

    /// <summary>The test split.</summary>
    public ImageDataset Test => test ??= Data.ReadTest();

    /// <summary>Lets go of the test split until its next use (training does not need it held through every step).
    /// A dataset taken from <see cref="Test"/> before is disposed with it.</summary>
    public void ReleaseTest()
    {
        test?.Dispose();
        test = null;
    }

    /// <summary>
    /// The training images a config trains on: the seeded validation split, then the subset, with the
    /// statistics of the whole training split. The full training set is read, split and let go, so only
    /// the parts are held.
    /// </summary>
    public TrainingData Training(TrainConfig config)
    {
        if (training is not null) return training;
        using var full = Data.ReadTrain();
        var normalization = Data.NormalizationOf(full);
        int held = config.ValidationImages(full.Count);
        if (held >= full.Count)
            throw new ConfigException($"--val-size {held:N0} leaves no training images of the {full.Count:N0} in the data; choose a smaller --val-size, or leave it out (auto: {TrainConfig.AutoValidationShare:P0} of the training images, at most {TrainConfig.AutoValidationMax:N0})");
        var (train, validation) = Split.TrainValidation(full, held, config.Seed);
        if (config.TrainSubset > 0 && config.TrainSubset < train.Count)
        {
            var subset = train.Take(config.TrainSubset);
            train.Dispose();
            train = subset;
        }
        return training = new TrainingData(train, validation, normalization);
    }

    /// <summary>A freshly initialised network for <paramref name="config"/>, sized for this data set's classes.</summary>
    public nn.Module<Tensor, Tensor> CreateModel(TrainConfig config) => Trainer.CreateModel(config, ClassNames.Count);

    /// <summary>The network of a checkpoint (or a run folder's best, else last), on this device, in eval mode.</summary>
    public (nn.Module<Tensor, Tensor> Model, CheckpointState State) LoadModel(string checkpoint) => Checkpoint.LoadModel(checkpoint, Device);

    /// <summary>The network of a checkpoint (or run folder) on this device, or an exported ONNX model on ONNX Runtime
    /// with this session's threads, as a classifier of images (predict, eval, serve).</summary>
    public Prediction.IImageClassifier Classifier(string checkpoint, bool tta = false) =>
        Prediction.ImageClassifier.Open(checkpoint, Device, tta, options.Threads);

    /// <summary>Throws unless <paramref name="state"/>'s network classifies this data set's classes.</summary>
    public void CheckClassesMatch(CheckpointState state, string checkpoint) => CheckClassesMatch(state.ClassNames, checkpoint);

    /// <summary>Throws unless a network with these class names (none recorded: not checked) classifies this data set's classes.</summary>
    public void CheckClassesMatch(IReadOnlyList<string> classNames, string checkpoint)
    {
        if (classNames.Count > 0 && !classNames.SequenceEqual(ClassNames))
            throw new CheckpointException($"checkpoint {checkpoint} classifies {classNames.Count} classes ({string.Join(", ", classNames.Take(3))}, ...), " +
                                          $"the {Data.Name} data in {Data.Folder} has {ClassNames.Count} ({string.Join(", ", ClassNames.Take(3))}, ...); pass the data it was trained on");
    }

    /// <summary>Disposes the splits the session read (the test split and the training data).</summary>
    public void Dispose()
    {
        test?.Dispose();
        training?.Train.Dispose();
        training?.Validation.Dispose();
    }
}
