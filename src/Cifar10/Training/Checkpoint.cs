using Cifar10.Data;
using Cifar10.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>What a checkpoint folder records besides the weights: enough to rebuild the network
/// (for eval and predict) and to continue training at the next epoch.</summary>
public sealed record CheckpointState
{
    /// <summary>The epochs completed when the checkpoint was written; a resume starts with the next.</summary>
    public int Epoch { get; init; }                 // epochs completed
    /// <summary>The optimizer steps taken so far, over all epochs (the learning-rate schedule's position).</summary>
    public long GlobalStep { get; init; }
    /// <summary>The best validation accuracy so far, 0 to 1; NaN without a validation set.</summary>
    public double BestValAccuracy { get; init; } = double.NaN;
    /// <summary>The epoch that reached <see cref="BestValAccuracy"/> (0: none yet).</summary>
    public int BestEpoch { get; init; }
    /// <summary>The network's catalog name (<see cref="Models.ModelCatalog"/>), from which it is rebuilt.</summary>
    public string Model { get; init; } = "";
    /// <summary>The dropout probability the network was built with, or null for its default.</summary>
    public double? Dropout { get; init; }
    /// <summary>The depth the network was built with (networks that have one).</summary>
    public int Depth { get; init; } = 3;
    /// <summary>The number of classes: the width of the network's output.</summary>
    public int NumClasses { get; init; } = 10;
    /// <summary>The class names, in output order.</summary>
    public string[] ClassNames { get; init; } = [];
    /// <summary>The precision the network trained in; checkpoints written before it was recorded trained in fp32.</summary>
    public PrecisionMode Precision { get; init; } = PrecisionMode.Fp32;
    /// <summary>The per-channel statistics the network's inputs are normalised with; empty in checkpoints
    /// written before they were recorded, which all trained on CIFAR-10 with its published statistics.</summary>
    public float[] Mean { get; init; } = [];
    /// <summary>The per-channel standard deviations, as fractions of 255, paired with <see cref="Mean"/>.</summary>
    public float[] Std { get; init; } = [];

    /// <summary>The options that rebuild the network: classes, dropout, depth.</summary>
    public ModelOptions ModelOptions => new(NumClasses, Dropout, Depth);

    /// <summary>The statistics the network's inputs are normalised with (CIFAR-10's for a checkpoint that does not record them).</summary>
    public Normalization Normalization => Mean.Length == 0 ? Normalization.Cifar10 : new Normalization(Mean, Std);
}

/// <summary>A checkpoint to continue training from: its state, and the weights and optimizer state in its folder.</summary>
/// <param name="Folder">The checkpoint folder.</param>
/// <param name="State">What its state.json records.</param>
public sealed record ResumePoint(string Folder, CheckpointState State)
{
    /// <summary>Loads the checkpoint's weights into <paramref name="model"/> and its optimizer state into <paramref name="optimizer"/> (built as the run built them).</summary>
    public void Restore(nn.Module model, ITrainingOptimizer optimizer)
    {
        Checkpoint.LoadWeights(model, Folder);
        Checkpoint.LoadOptimizer(optimizer, Folder);
    }
}

/// <summary>
/// A checkpoint is a folder: model.bin, optimizer.bin and state.json. It is written beside its
/// final place (NAME.writing) and swapped in with renames (the old one briefly NAME.previous), so
/// a run killed at any moment still has a whole checkpoint, which <see cref="Recover"/> puts back
/// under its name.
/// </summary>
public static class Checkpoint
{
    /// <summary>The network's weights (TorchSharp's format).</summary>
    public const string ModelFile = "model.bin";
    /// <summary>The optimizer's state; a checkpoint saved without an optimizer has none (it can be evaluated, not resumed).</summary>
    public const string OptimizerFile = "optimizer.bin";
    /// <summary>The <see cref="CheckpointState"/>, as JSON.</summary>
    public const string StateFile = "state.json";
    /// <summary>The checkpoint folders of a run: the best by validation accuracy, and the last epoch's.</summary>
    public const string BestName = "best", LastName = "last";
    /// <summary>The suffixes of a checkpoint being written and of the one it replaces, while they are swapped.</summary>
    public const string Writing = ".writing", Previous = ".previous";

    /// <summary>Writes a checkpoint to <paramref name="folder"/>, replacing one that is there only once the new one is whole.</summary>
    /// <param name="folder">The checkpoint folder (created, with its parents, if missing).</param>
    /// <param name="model">The network whose weights are saved.</param>
    /// <param name="optimizer">The optimizer whose state is saved, or null for a checkpoint that is evaluated but not resumed.</param>
    /// <param name="state">What the checkpoint records besides the weights (<see cref="EpochEnd.State"/> during training).</param>
    public static void Save(string folder, nn.Module model, ITrainingOptimizer? optimizer, CheckpointState state)
    {
        Recover(folder);
        var staging = folder + Writing;
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);

        model.save(Path.Combine(staging, ModelFile));
        optimizer?.Save(Path.Combine(staging, OptimizerFile));
        AtomicFile.WriteJson(Path.Combine(staging, StateFile), state);

        // After Recover a stale .previous can only sit beside a whole checkpoint, which is newer.
        var previous = folder + Previous;
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        if (Directory.Exists(folder)) Directory.Move(folder, previous);
        Directory.Move(staging, folder);
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    /// <summary>
    /// Makes <paramref name="folder"/> a whole checkpoint again after a run was killed mid-save: when
    /// only NAME.previous is whole, it is renamed back; a NAME.writing is never trusted (it may be
    /// incomplete) and is removed once a whole checkpoint stands under the name. True when a whole
    /// checkpoint is there afterwards.
    /// </summary>
    public static bool Recover(string folder)
    {
        var previous = folder + Previous;
        if (!IsWhole(folder) && IsWhole(previous))
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(previous, folder);
        }
        if (IsWhole(folder) && Directory.Exists(folder + Writing))
            Directory.Delete(folder + Writing, recursive: true);
        return IsWhole(folder);
    }

    static bool IsWhole(string folder) =>
        File.Exists(Path.Combine(folder, StateFile)) && File.Exists(Path.Combine(folder, ModelFile));

    /// <summary>Accepts a checkpoint folder, or a run folder (its best checkpoint, else its last),
    /// recovering one left half-swapped by a killed run.</summary>
    public static string Locate(string path)
    {
        if (File.Exists(path)) throw new ConfigException(Export.ModelFiles.NotACheckpoint(path));
        if (File.Exists(Path.Combine(path, StateFile))) return path;
        if (!Directory.Exists(path) && Recover(path)) return path;
        foreach (var name in new[] { BestName, LastName })
        {
            var candidate = Path.Combine(path, name);
            if (Recover(candidate)) return candidate;
        }
        if (!Directory.Exists(path))
            throw new CheckpointException($"checkpoint not found: {path} does not exist");
        throw new CheckpointException($"no checkpoint in {path}: expected {StateFile}, or a run folder with {BestName}/ or {LastName}/");
    }

    /// <summary>The state.json of the checkpoint <paramref name="folder"/>, checked; a missing, unreadable or inconsistent one is a <see cref="CheckpointException"/>.</summary>
    public static CheckpointState ReadState(string folder)
    {
        var file = Path.Combine(folder, StateFile);
        return JsonFiles.Read<CheckpointState>(file, message => new CheckpointException(message)).Checked(file);
    }

    /// <summary>The checkpoint to continue a run from, or null when it has none yet.</summary>
    public static ResumePoint? ResumeFrom(string folder) =>
        Recover(folder) ? new ResumePoint(folder, ReadState(folder)) : null;

    /// <summary>Rebuilds the network a checkpoint was trained with, loads its weights onto
    /// <paramref name="device"/>, sets the precision it trained in (fp32 for bf16 on a CPU without bf16
    /// instructions: <see cref="Precision.ForInference(PrecisionMode)"/>) and switches it to eval mode.</summary>
    public static (nn.Module<Tensor, Tensor> Model, CheckpointState State) LoadModel(string path, Device device)
    {
        var folder = Locate(path);
        var state = ReadState(folder);
        var model = ModelCatalog.Create(state.Model, state.ModelOptions);
        try
        {
            LoadWeights(model, folder);
            model.to(device);
            Precision.Apply(model, Precision.ForInference(state.Precision));
            model.eval();
            return (model, state);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads the weights of the checkpoint <paramref name="folder"/> into <paramref name="model"/>, which must be the network they were saved from (a <see cref="CheckpointException"/> otherwise).</summary>
    public static void LoadWeights(nn.Module model, string folder)
    {
        var file = Path.Combine(folder, ModelFile);
        if (!File.Exists(file)) throw new CheckpointException($"checkpoint {folder} has no {ModelFile}");
        try
        {
            model.load(file);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"{file} cannot be loaded (truncated, or written for another network?): {OneLine.Of(e.Message)}");
        }
    }

    /// <summary>Restores the optimizer state of the checkpoint <paramref name="folder"/> into <paramref name="optimizer"/>.</summary>
    public static void LoadOptimizer(ITrainingOptimizer optimizer, string folder)
    {
        var file = Path.Combine(folder, OptimizerFile);
        if (!File.Exists(file)) throw new CheckpointException($"checkpoint {folder} has no {OptimizerFile}");
        try
        {
            optimizer.Load(file);
        }
        catch (Exception e)
        {
            throw new CheckpointException($"{file} cannot be loaded (truncated?): {OneLine.Of(e.Message)}");
        }
    }
}

/// <summary>A missing or unreadable checkpoint (exit code 1).</summary>
public sealed class CheckpointException(string message) : Exception(OneLine.Of(message));
