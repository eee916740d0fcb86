using System.Runtime.CompilerServices;

namespace Cifar10.Training;

/// <summary>What a setting is about; help texts group by it and a command takes the groups it uses.</summary>
public enum SettingGroup
{
    /// <summary>The network and how it is built (model, recipe, dropout, depth).</summary>
    Network,
    /// <summary>The optimizer and its parameters.</summary>
    Optimizer,
    /// <summary>The epochs and the learning-rate schedule.</summary>
    Schedule,
    /// <summary>Which images are trained and validated on.</summary>
    Data,
    /// <summary>How training images are augmented.</summary>
    Augmentation,
    /// <summary>How the validation and test sets are measured.</summary>
    Evaluation,
    /// <summary>Where and how the run computes: seed, threads, device, distribution, precision.</summary>
    Machine,
}

/// <summary>
/// Declares a property of <see cref="TrainConfig"/> as a training setting: the one place that says its
/// name (the option <c>--NAME</c>, the <c>--vary NAME=…</c> key and, with '_' for '-', the config.json key),
/// its help, its range and when it applies. The property's initial value is the classic recipe's default.
/// <see cref="TrainSettings.All"/> is built from these, in declaration order.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class SettingAttribute(string name, SettingGroup group, string help, [CallerLineNumber] int order = 0) : Attribute
{
    public string Name { get; } = name;
    public SettingGroup Group { get; } = group;
    public string Help { get; } = help;
    /// <summary>The declaration's line: the order help texts and config.json list the settings in.</summary>
    public int Order { get; } = order;

    /// <summary>Extra spellings of the option, e.g. "-b".</summary>
    public string[] Aliases { get; set; } = [];
    /// <summary>Keys earlier versions wrote to config.json for this setting; they still read.</summary>
    public string[] LegacyJsonNames { get; set; } = [];
    /// <summary>What the value looks like in help texts, where the type does not say it well.</summary>
    public string? Hint { get; set; }
    /// <summary>A fact about the machine, not the run: it may change when a run resumes.</summary>
    public bool DescribesMachine { get; set; }
    /// <summary>Text values are stored in lower case (names of networks, recipes, devices).</summary>
    public bool LowerCase { get; set; }
    /// <summary>The word that stands for null in a nullable setting ("default", "auto").</summary>
    public string? NullWord { get; set; }

    // The range of a number (or of each number of a list); NaN: no bound on that side.
    public double Above { get; set; } = double.NaN;
    public double AtLeast { get; set; } = double.NaN;
    public double Below { get; set; } = double.NaN;
    public double AtMost { get; set; } = double.NaN;

    /// <summary>The values of an enum setting that may be chosen, "a|b|c" (default: every value).</summary>
    public string? Choices { get; set; }
    /// <summary>
    /// When the setting takes effect: "SETTING=VALUE|VALUE" or "SETTING&gt;NUMBER". A value given on the
    /// command line while the condition is false is refused instead of silently ignored.
    /// </summary>
    public string? AppliesWhen { get; set; }
    /// <summary>The name of a static method of <see cref="TrainSettings"/> that checks a value: <c>string? M(T value)</c>,
    /// null when the value is valid, else the one-line reason.</summary>
    public string? Check { get; set; }
}
