using System.Globalization;
using Cifar10.Data;
using Cifar10.Models;
using Cifar10.Runtime;

namespace Cifar10.Training;

/// <summary>
/// The settings table: every training setting, as declared on <see cref="TrainConfig"/>'s properties.
/// The <c>train</c>, <c>sweep</c> and <c>lr-find</c> options, the names <c>--vary</c> accepts, the keys of
/// config.json, docs/cli.md and the checks of <see cref="Validate"/> all come from it, and a recipe is
/// resolved in one place (<see cref="Resolve"/>): the network's recipe first, then the user's settings.
/// </summary>
public static class TrainSettings
{
    /// <summary>Every setting, in the order help texts list them.</summary>
    public static IReadOnlyList<Setting> All { get; } = Setting.Declared();

    /// <summary>The <c>model</c> setting, resolved before every other (it picks the recipe).</summary>
    public static Setting Model { get; } = Get("model");
    /// <summary>The <c>recipe</c> setting, resolved right after the model.</summary>
    public static Setting Recipe { get; } = Get("recipe");

    /// <summary>The network `train` uses when none is named.</summary>
    public static string DefaultModel => new TrainConfig().Model;

    static string? KnownModel(string name) =>
        ModelCatalog.Contains(name) ? null : $"unknown model '{name}'; choose one of: {ModelCatalog.Names}";

    static string? KnownRecipe(string name) =>
        name.Length == 0 || Recipes.All.Any(r => r.Name == name) ? null : $"unknown recipe '{name}'; choose one of: {Recipes.Names}";

    /// <summary>The setting called <paramref name="name"/> (its option name without dashes).</summary>
    public static Setting Get(string name) =>
        All.FirstOrDefault(s => s.Name == name.Trim().ToLowerInvariant() || s.Aliases.Contains("--" + name.Trim().ToLowerInvariant()))
        ?? throw new ConfigException($"unknown setting '{name}'; the settings are: {string.Join(", ", All.Select(s => s.Name))}");

    /// <summary>
    /// The config a run uses: the named (or default) network, its recipe (or the one named), then
    /// every other given setting in order. Throws <see cref="ConfigException"/> for an unknown name, a
    /// bad value, a setting given twice, a setting the network does not have, or an invalid combination.
    /// </summary>
    public static TrainConfig Resolve(IEnumerable<KeyValuePair<string, string>> given)
    {
        var settings = given.Select(g => (Setting: Get(g.Key), Text: g.Value)).ToList();
        var twice = settings.GroupBy(s => s.Setting).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ConfigException($"{twice.Key.Name} is given more than once");

        string? Given(Setting setting) => settings.Where(s => s.Setting == setting).Select(s => s.Text).FirstOrDefault();
        var model = ModelCatalog.Get(Given(Model) ?? DefaultModel);
        var recipe = Recipes.Get(Given(Recipe) ?? model.DefaultRecipe);
        var config = recipe.Defaults with { Model = model.Name, Recipe = recipe.Name };
        foreach (var (setting, text) in settings.Where(s => s.Setting != Model && s.Setting != Recipe))
            config = setting.Apply(config, text);

        // A value the run would ignore is a mistake: the network's own options exist only where it has
        // them, and some settings take effect only with others.
        if (Given(Get("depth")) is not null && !model.HasDepth)
            throw new ConfigException($"model '{model.Name}' has no depth setting; models with one: {ModelCatalog.NamesWhere(m => m.HasDepth)}");
        foreach (var (setting, _) in settings)
            if (setting.Check(config) is { } problem)
                throw new ConfigException(problem);
            else if (setting.AppliesWhen is { } condition && !condition.Holds(config))
                throw new ConfigException($"--{setting.Name} applies only with {condition} (here --{condition.SettingName} is {Get(condition.SettingName).Format(config)})");
        return config.Validated();
    }

    /// <summary>
    /// With <c>--resume</c> a run continues with the settings it started with; only the machine's
    /// (threads, device) may change. Anything else given is refused rather than silently ignored.
    /// </summary>
    public static void RefuseWithResume(IEnumerable<string> givenNames, string runFolder)
    {
        var refused = givenNames.Select(Get).Where(s => !s.DescribesMachine).Select(s => "--" + s.Name).ToList();
        if (refused.Count > 0)
            throw new ConfigException($"--resume continues {runFolder} with the settings it started with; {string.Join(", ", refused)} cannot be changed (start a new run with --out, or use only --threads/--device with --resume)");
    }

    /// <summary>Every setting's range check, then the rules that tie settings together. Returns the config.</summary>
    public static TrainConfig Validate(TrainConfig config)
    {
        foreach (var setting in All)
            if (setting.Check(config) is { } problem) throw new ConfigException(problem);

        var model = ModelCatalog.Get(config.Model);
        // Under muon, --lr, --momentum, --nesterov, --weight-decay and the scales are the fallback's.
        var plain = config.Optimizer == OptimizerKind.Muon ? config.MuonFallback : config.Optimizer;
        Require(!config.Nesterov || (plain == OptimizerKind.Sgd && config.Momentum > 0),
                "nesterov needs the sgd optimizer (or muon's sgd fallback) with momentum > 0");
        Require(config.NormBiasLrScale == 1 || plain == OptimizerKind.Sgd,
                "a norm-bias lr scale other than 1 needs the sgd optimizer");
        Require(config.HeadLrScale == 1 || plain == OptimizerKind.Sgd,
                "a head lr scale other than 1 needs the sgd optimizer");
        Require(!config.AlternatingFlip || config.HorizontalFlip, "alternating flips need flipping on (--flip true)");
        Require(config.WarmupEpochs <= config.Epochs, $"warm-up ({Show(config.WarmupEpochs)} epoch{(config.WarmupEpochs == 1 ? "" : "s")}) must not be longer than the run ({Reporting.DisplayFormat.Count(config.Epochs, "epoch")})");
        Require(config.EarlyStop == 0 || config.HasValidation, "early stopping needs a validation set (--val-size other than 0)");
        Require(config.Dropout is null || model.HasDropout,
                $"model '{model.Name}' has no dropout layer; models with dropout: {ModelCatalog.NamesWhere(m => m.HasDropout)} (--dropout default leaves it unset)");
        Require(model.Depths is not { } depths || (config.Depth >= depths.Min && config.Depth <= depths.Max),
                $"{model.Name} depth must be between {model.Depths?.Min} and {model.Depths?.Max} (got {config.Depth})");
        Require(config.LowRes == 0 || model.AcceptsAnyImageSize, Trainer.LowResUnsupported($"'{model.Name}'"));
        Require(config.Precision != PrecisionMode.Bf16 || model.SupportsBf16, Precision.Bf16Unsupported(model));
        return config;
    }

    /// <summary>The option's help: what it does and its default in each recipe.</summary>
    public static string Describe(Setting setting)
    {
        if (setting == Model) return $"{setting.Help} [default: {DefaultModel}]";
        if (setting == Recipe)
            return $"{setting.Help}: {Recipes.Names} [default: the model's own: " +
                   string.Join("; ", ModelCatalog.All.GroupBy(m => m.DefaultRecipe).Select(g => $"{g.Key} for {string.Join(", ", g.Select(m => m.Name))}")) + "]";
        var defaults = Recipes.All.Select(r => (r.Name, Value: setting.Format(r.Defaults))).ToList();
        var shown = defaults.Select(d => d.Value).Distinct().Count() == 1
            ? defaults[0].Value
            : string.Join(", ", defaults.Select(d => $"{d.Value} ({d.Name})"));
        return $"{setting.Help} [default: {shown}]";
    }

    static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static void Require(bool condition, string message)
    {
        if (!condition) throw new ConfigException(message);
    }
}
