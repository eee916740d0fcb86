using System.Text;
using Cifar10.Training;

namespace Cifar10.Sweeps;

/// <summary>One varied setting and the values it takes, as written after --vary.</summary>
public sealed record VariedSetting(string Name, IReadOnlyList<string> Values)
{
    /// <summary>Parses "lr=0.1,0.01,0.001".</summary>
    public static VariedSetting Parse(string text)
    {
        int equals = text.IndexOf('=');
        if (equals <= 0 || equals == text.Length - 1)
            throw new ConfigException($"--vary expects NAME=VALUE,VALUE,... (got '{text}')");
        var name = text[..equals].Trim().ToLowerInvariant();
        var values = text[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (values.Length == 0) throw new ConfigException($"--vary {name} has no values");
        ConfigSettings.Apply(new TrainConfig(), name, values[0]); // unknown names and bad values fail here
        return new VariedSetting(name, values);
    }
}

/// <summary>One trial: its name (also its folder's) and the values it sets.</summary>
public sealed record Trial(int Index, string Name, IReadOnlyList<KeyValuePair<string, string>> Settings, TrainConfig Config);

/// <summary>
/// The trials of a sweep: every combination of the varied settings (grid), or the i-th value
/// of each setting together (list), applied on top of a base configuration.
/// </summary>
public static class SweepPlan
{
    public static IReadOnlyList<Trial> Expand(TrainConfig baseConfig, IReadOnlyList<VariedSetting> varied, bool grid = true)
    {
        if (varied.Count == 0) throw new ConfigException("a sweep needs at least one --vary NAME=VALUES");
        if (varied.Select(v => v.Name).Distinct().Count() != varied.Count)
            throw new ConfigException("each setting may be varied only once");

        IEnumerable<IReadOnlyList<KeyValuePair<string, string>>> combinations;
        if (grid)
        {
            combinations = [[]];
            foreach (var setting in varied)
                combinations = combinations.SelectMany(prefix => setting.Values.Select(value =>
                    (IReadOnlyList<KeyValuePair<string, string>>)[.. prefix, new(setting.Name, value)])).ToList();
        }
        else
        {
            int length = varied[0].Values.Count;
            if (varied.Any(v => v.Values.Count != length))
                throw new ConfigException("--list needs the same number of values for every --vary");
            combinations = Enumerable.Range(0, length).Select(i =>
                (IReadOnlyList<KeyValuePair<string, string>>)varied.Select(v => new KeyValuePair<string, string>(v.Name, v.Values[i])).ToList());
        }

        return combinations.Select((settings, index) =>
        {
            var config = settings.Aggregate(baseConfig, (c, s) => ConfigSettings.Apply(c, s.Key, s.Value));
            return new Trial(index, TrialName(settings), settings, config.Validated());
        }).ToList();
    }

    /// <summary>"lr=0.1_batch-size=32": readable, and safe as a folder name.</summary>
    public static string TrialName(IEnumerable<KeyValuePair<string, string>> settings)
    {
        var name = new StringBuilder();
        foreach (var (key, value) in settings)
        {
            if (name.Length > 0) name.Append('_');
            name.Append(key).Append('=').Append(value);
        }
        foreach (var bad in Path.GetInvalidFileNameChars().Append(' '))
            name.Replace(bad, '-');
        return name.ToString();
    }
}
