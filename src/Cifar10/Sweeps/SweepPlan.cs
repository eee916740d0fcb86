using System.Text;
using Cifar10.Training;

namespace Cifar10.Sweeps;

/// <summary>One varied setting and the values it takes, as written after --vary.</summary>
/// <param name="Name">The setting's name.</param>
/// <param name="Values">Its values, as text.</param>
public sealed record VariedSetting(string Name, IReadOnlyList<string> Values)
{
    /// <summary>Parses "lr=0.1,0.01,0.001". The name must be a setting of the table; a value given twice is refused.</summary>
    public static VariedSetting Parse(string text)
    {
        int equals = text.IndexOf('=');
        if (equals <= 0 || equals == text.Length - 1)
            throw new ConfigException($"--vary expects NAME=VALUE,VALUE,... (got '{text}')");
        var setting = TrainSettings.Get(text[..equals]);
        var values = text[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (values.Length == 0) throw new ConfigException($"--vary {setting.Name} has no values");
        // Parsed and written back, so "0.1" and "0.10" are seen as the same value.
        var canonical = values.Select(v => setting.Format(setting.Apply(Recipes.Classic.Defaults, v))).ToList();
        var twice = canonical.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ConfigException($"--vary {setting.Name} lists the value {twice.Key} more than once");
        return new VariedSetting(setting.Name, values);
    }
}

/// <summary>One trial: its name (also its folder's), the values it varies, and its resolved config.</summary>
/// <param name="Index">Its 0-based index in the plan (what <c>--trial-index</c> takes).</param>
/// <param name="Name">Its name, from the varied values: e.g. <c>lr=0.1_batch-size=256</c>.</param>
/// <param name="Settings">The varied settings' values of this trial.</param>
/// <param name="Config">The trial's resolved settings.</param>
public sealed record Trial(int Index, string Name, IReadOnlyList<KeyValuePair<string, string>> Settings, TrainConfig Config);

/// <summary>
/// The trials of a sweep: every combination of the varied settings (grid), or the i-th value
/// of each setting together (list). Each trial's config is resolved like a `train` command line
/// with the base settings and the trial's values (which win): the recipe follows the trial's
/// network, and every trial is validated before any of them runs.
/// </summary>
public static class SweepPlan
{
    /// <summary>The trials of <paramref name="varied"/> over <paramref name="baseSettings"/>, each resolved and validated;
    /// an unknown setting, a bad value or lists of unequal length (list mode) is a <see cref="ConfigException"/>.</summary>
    /// <param name="baseSettings">The settings every trial shares, by name.</param>
    /// <param name="varied">The settings varied and their values.</param>
    /// <param name="grid">Every combination (true), or the i-th values together (false).</param>
    public static IReadOnlyList<Trial> Expand(IReadOnlyList<KeyValuePair<string, string>> baseSettings,
                                              IReadOnlyList<VariedSetting> varied, bool grid = true)
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

        var names = varied.Select(v => TrainSettings.Get(v.Name)).ToHashSet();
        return combinations.Select((settings, index) =>
        {
            var given = baseSettings.Where(b => !names.Contains(TrainSettings.Get(b.Key))).Concat(settings);
            try
            {
                return new Trial(index, TrialName(settings), settings, TrainSettings.Resolve(given));
            }
            catch (ConfigException e)
            {
                throw new ConfigException($"trial {index} ({TrialName(settings)}): {e.Message}");
            }
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
