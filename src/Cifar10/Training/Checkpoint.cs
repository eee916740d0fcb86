using System.Text.Json;
using Cifar10.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>What a checkpoint folder records besides the weights: enough to rebuild the network
/// (for eval and predict) and to continue training at the next epoch.</summary>
public sealed record CheckpointState
{
    public int Epoch { get; init; }                 // epochs completed
    public long GlobalStep { get; init; }
    public double BestValAccuracy { get; init; } = double.NaN;
    public int BestEpoch { get; init; }
    public string Model { get; init; } = "";
    public double? Dropout { get; init; }
    public int Depth { get; init; } = 3;
    public int NumClasses { get; init; } = 10;
    public string[] ClassNames { get; init; } = [];
}

/// <summary>
/// A checkpoint is a folder: model.bin, optimizer.bin and state.json. It is written beside its
/// final place and swapped in with renames, so a run killed mid-write still has its previous
/// checkpoint whole.
/// </summary>
public static class Checkpoint
{
    public const string ModelFile = "model.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string StateFile = "state.json";

    public static void Save(string folder, nn.Module model, TorchSharp.Modules.OptimizerHelper? optimizer, CheckpointState state)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(folder))!;
        Directory.CreateDirectory(parent);
        var staging = folder + ".writing";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);

        model.save(Path.Combine(staging, ModelFile));
        optimizer?.save_state_dict(Path.Combine(staging, OptimizerFile));
        File.WriteAllText(Path.Combine(staging, StateFile), JsonSerializer.Serialize(state, TrainConfig.Json));

        var previous = folder + ".previous";
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        if (Directory.Exists(folder)) Directory.Move(folder, previous);
        Directory.Move(staging, folder);
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    /// <summary>Accepts a checkpoint folder, or a run folder (its best checkpoint, else its last).</summary>
    public static string Locate(string path)
    {
        if (File.Exists(Path.Combine(path, StateFile))) return path;
        foreach (var name in new[] { RunFolder.BestCheckpoint, RunFolder.LastCheckpoint })
        {
            var candidate = Path.Combine(path, name);
            if (File.Exists(Path.Combine(candidate, StateFile))) return candidate;
            // A run killed between the two renames of Save leaves only the ".previous" copy.
            if (File.Exists(Path.Combine(candidate + ".previous", StateFile))) return candidate + ".previous";
        }
        if (!Directory.Exists(path))
            throw new CheckpointException($"checkpoint not found: {path} does not exist");
        throw new CheckpointException($"no checkpoint in {path}: expected {StateFile}, or a run folder with {RunFolder.BestCheckpoint}/ or {RunFolder.LastCheckpoint}/");
    }

    public static CheckpointState ReadState(string folder)
    {
        var file = Path.Combine(folder, StateFile);
        try
        {
            return JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(file), TrainConfig.Json)
                   ?? throw new CheckpointException($"{file} is empty");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{file} is not valid JSON: {e.Message}");
        }
    }

    public static ModelOptions ModelOptionsOf(CheckpointState state) => new(state.NumClasses, state.Dropout, state.Depth);

    /// <summary>Rebuilds the network a checkpoint was trained with and loads its weights onto <paramref name="device"/>.</summary>
    public static (nn.Module<Tensor, Tensor> Model, CheckpointState State) LoadModel(string path, Device device)
    {
        var folder = Locate(path);
        var state = ReadState(folder);
        var model = ModelCatalog.Create(state.Model, ModelOptionsOf(state));
        LoadWeights(model, folder);
        model.to(device);
        Precision.Apply(model, Precision.Resolve(Precision.Auto, state.Model));
        model.eval();
        return (model, state);
    }

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
            throw new CheckpointException($"{file} cannot be loaded: {e.Message.Split('\n')[0]}");
        }
    }

    public static void LoadOptimizer(TorchSharp.Modules.OptimizerHelper optimizer, string folder)
    {
        var file = Path.Combine(folder, OptimizerFile);
        if (!File.Exists(file)) throw new CheckpointException($"checkpoint {folder} has no {OptimizerFile}");
        optimizer.load_state_dict(file);
    }
}

/// <summary>A missing or unreadable checkpoint (exit code 1).</summary>
public sealed class CheckpointException(string message) : Exception(message);
