using System.CommandLine;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>
/// The training options of `train`, `sweep` and `lr-find`, one per entry of
/// <see cref="TrainSettings.All"/>: name, aliases and help (with each recipe's default) come from
/// the table, and the values are handed to <see cref="TrainSettings.Resolve"/> as the text the user
/// typed, so parsing is the table's (culture-invariant) and so is validation.
/// </summary>
public sealed class SettingOptions
{
    readonly List<(Setting Setting, Option Option)> options;

    /// <summary>The named settings, or every setting when none is named.</summary>
    public SettingOptions(params string[] only) : this(setting => only.Length == 0 || only.Contains(setting.Name)) { }

    /// <summary>The settings a command uses.</summary>
    public SettingOptions(Func<Setting, bool> uses) =>
        options = TrainSettings.All.Where(uses).Select(setting => (setting, Build(setting))).ToList();

    /// <summary>Text-valued options: the table parses the text, not System.CommandLine (whose number parsing follows the machine's culture).</summary>
    static Option Build(Setting setting)
    {
        string name = "--" + setting.Name;
        string[] aliases = setting.Aliases.ToArray();
        string description = TrainSettings.Describe(setting);
        if (setting.IsList)
            return new Option<string[]>(name, aliases)
            {
                Description = description, HelpName = setting.ValueHint, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true,
            };
        // A flag alone means true; every other setting takes exactly one value.
        return new Option<string>(name, aliases)
        {
            Description = description, HelpName = setting.ValueHint,
            Arity = setting.IsFlag ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
        };
    }

    public void AddTo(Command command)
    {
        foreach (var (_, option) in options) command.Options.Add(option);
    }

    /// <summary>The settings given on the command line, by name, in table order, as typed.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Given(ParseResult parsed)
    {
        var given = new List<KeyValuePair<string, string>>();
        foreach (var (setting, option) in options)
        {
            if (parsed.GetResult(option) is not { } result) continue;
            if (result.Tokens.Count == 0 && !setting.IsFlag) continue;
            var text = result.Tokens.Count == 0 ? "true" : string.Join(" ", result.Tokens.Select(t => t.Value));
            given.Add(new(setting.Name, text));
        }
        return given;
    }

    /// <summary>The resolved, validated config: the model's recipe, then the given settings.</summary>
    public TrainConfig Resolve(ParseResult parsed) => TrainSettings.Resolve(Given(parsed));
}
