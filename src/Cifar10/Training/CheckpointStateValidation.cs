using Cifar10.Data;
using Cifar10.Models;

namespace Cifar10.Training;

/// <summary>
/// The values of a state.json that parse but cannot be used: each would otherwise surface later as a
/// libtorch error, a null reference, NaN probabilities or class names put on the wrong outputs.
/// </summary>
internal static class CheckpointStateValidation
{
    /// <summary>Throws a <see cref="CheckpointException"/> naming <paramref name="file"/> and the first value that is wrong.</summary>
    public static CheckpointState Checked(this CheckpointState state, string file)
    {
        var problem = Problem(state);
        if (problem is not null) throw new CheckpointException($"{file}: {problem}");
        return state;
    }

    static string? Problem(CheckpointState state)
    {
        if (string.IsNullOrEmpty(state.Model)) return "model is missing";
        if (!ModelCatalog.Contains(state.Model)) return $"model '{state.Model}' is not registered; known models: {ModelCatalog.Names}";
        var info = ModelCatalog.Get(state.Model);
        if (state.NumClasses < 2) return $"num_classes is {state.NumClasses}; a classifier has at least 2";
        if (state.ClassNames is null) return "class_names is null";
        if (state.ClassNames.Length > 0 && state.ClassNames.Length != state.NumClasses)
            return $"class_names has {state.ClassNames.Length} names for num_classes {state.NumClasses}";
        if (state.ClassNames.Any(string.IsNullOrWhiteSpace)) return "class_names has an empty name";
        if (info.Depths is { } depths && (state.Depth < depths.Min || state.Depth > depths.Max))
            return $"depth is {state.Depth}; {state.Model} takes {depths.Min}..{depths.Max}";
        if (state.Dropout is { } dropout)
        {
            if (!info.HasDropout) return $"dropout is set ({dropout}) for {state.Model}, which has no dropout layer";
            if (!(dropout >= 0 && dropout < 1)) return $"dropout is {dropout}; it is a probability in [0, 1)";
        }
        return Statistics("mean", state.Mean, positive: false) ?? Statistics("std", state.Std, positive: true)
               ?? (state.Mean.Length != state.Std.Length ? $"mean has {state.Mean.Length} values, std {state.Std.Length}" : null);
    }

    /// <summary>Per-channel statistics: none (an old checkpoint: CIFAR-10's), or one finite value per channel.</summary>
    static string? Statistics(string name, float[]? values, bool positive)
    {
        if (values is null) return $"{name} is null";
        if (values.Length == 0) return null;
        if (values.Length != ImageDataset.Channels) return $"{name} has {values.Length} values; it needs one per channel ({ImageDataset.Channels})";
        if (values.Any(v => !float.IsFinite(v) || (positive && v <= 0)))
            return $"{name} is [{string.Join(", ", values)}]; {(positive ? "each must be a positive number" : "each must be a finite number")}";
        return null;
    }
}
