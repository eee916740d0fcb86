using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Cifar10.Training;

/// <summary>
/// One training setting: a property of <see cref="TrainConfig"/> and its <c>[Setting]</c> attribute.
/// Its name is the option (<c>--lr</c>), the name <c>--vary</c> takes (<c>lr=0.1,0.01</c>) and, with '_'
/// for '-', the config.json key. It parses text (always culture-invariant: "0.5" means a half on every
/// machine), checks the value's range, reads and writes its property, and says when it applies.
/// </summary>
public abstract class Setting
{
    private protected Setting(PropertyInfo property, SettingAttribute declaration)
    {
        Property = property;
        Declaration = declaration;
        AppliesWhen = declaration.AppliesWhen is { } condition ? SettingCondition.Parse(condition, declaration.Name) : null;
    }

    private protected PropertyInfo Property { get; }
    private protected SettingAttribute Declaration { get; }

    /// <summary>The setting's name: the option without its dashes (<c>lr</c>), and the key of <c>--vary</c>.</summary>
    public string Name => Declaration.Name;
    /// <summary>What the setting does, one line, as <c>--help</c> shows it.</summary>
    public string Help => Declaration.Help;
    /// <summary>What the setting is about; help texts group by it.</summary>
    public SettingGroup Group => Declaration.Group;
    /// <summary>What the value looks like, for help texts: "int", "number", "sgd|adam|adamw".</summary>
    public abstract string ValueHint { get; }
    /// <summary>Extra spellings of the option, e.g. "-b" for batch-size.</summary>
    public IReadOnlyList<string> Aliases => Declaration.Aliases;
    /// <summary>Keys earlier versions wrote to config.json for this setting; they still read.</summary>
    public IReadOnlyList<string> LegacyJsonNames => Declaration.LegacyJsonNames;
    /// <summary>A fact about the machine (threads, device), not about the run: it may change when a run resumes.</summary>
    public bool DescribesMachine => Declaration.DescribesMachine;
    /// <summary>The key of the setting in config.json: its name with '_' for '-'.</summary>
    public string JsonName => Name.Replace('-', '_');
    /// <summary>When the setting takes effect; null: always.</summary>
    public SettingCondition? AppliesWhen { get; }
    /// <summary>A true/false setting: the option alone means true.</summary>
    public abstract bool IsFlag { get; }
    /// <summary>A setting of several numbers, written "10 20" (or "10,20" on the command line).</summary>
    public abstract bool IsList { get; }

    /// <summary>The value in <paramref name="config"/>, boxed.</summary>
    public object? Value(TrainConfig config) => Property.GetValue(config);
    /// <summary>The value as text that <see cref="Apply"/> reads back.</summary>
    public abstract string Format(TrainConfig config);
    /// <summary><paramref name="config"/> with this setting parsed from <paramref name="text"/>; a
    /// <see cref="ConfigException"/> for text that is not a value of this setting.</summary>
    public abstract TrainConfig Apply(TrainConfig config, string text);
    /// <summary>Null when the value is in range, else the one-line reason (naming the option).</summary>
    public abstract string? Check(TrainConfig config);
    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> hold the same value of this setting (lists compared element by element).</summary>
    public abstract bool SameValue(TrainConfig a, TrainConfig b);
    internal abstract void WriteJson(Utf8JsonWriter writer, TrainConfig config);
    internal abstract TrainConfig ReadJson(ref Utf8JsonReader reader, TrainConfig config);

    /// <summary>The setting of each declared property of <see cref="TrainConfig"/>, in declaration order.</summary>
    internal static IReadOnlyList<Setting> Declared() =>
        typeof(TrainConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Declaration: p.GetCustomAttribute<SettingAttribute>()))
            .Where(p => p.Declaration is not null)
            .OrderBy(p => p.Declaration!.Order)
            .Select(p => (Setting)Activator.CreateInstance(typeof(Setting<>).MakeGenericType(p.Property.PropertyType),
                                                            BindingFlags.NonPublic | BindingFlags.Instance, null, [p.Property, p.Declaration], null)!)
            .ToList();
}

/// <summary>A setting whose values are <typeparamref name="T"/>.</summary>
public sealed class Setting<T> : Setting
{
    // A record's copy constructor, so that one property of a copy can be set (what `with` compiles to).
    static readonly MethodInfo CloneConfig = typeof(TrainConfig).GetMethod("<Clone>$")!;

    readonly Type valueType = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
    readonly Func<T, string?>? check;

    internal Setting(PropertyInfo property, SettingAttribute declaration) : base(property, declaration)
    {
        if (declaration.Check is { } name)
            check = (Func<T, string?>)Delegate.CreateDelegate(typeof(Func<T, string?>),
                typeof(TrainSettings).GetMethod(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new InvalidOperationException($"setting {Name}: no check method TrainSettings.{name}"));
    }

    /// <inheritdoc/>
    public override bool IsFlag => typeof(T) == typeof(bool);
    /// <inheritdoc/>
    public override bool IsList => typeof(T) == typeof(int[]);

    /// <inheritdoc/>
    public override string ValueHint => Declaration.Hint ?? valueType switch
    {
        var t when t == typeof(int) || t == typeof(long) => "int",
        var t when t == typeof(double) => "number",
        var t when t == typeof(bool) => "true|false",
        var t when t == typeof(int[]) => "int ...",
        var t when t.IsEnum => string.Join("|", Choices),
        _ => "text",
    } + (Declaration.NullWord is { } word ? "|" + word : "");

    T Get(TrainConfig config) => (T)Property.GetValue(config)!;

    TrainConfig With(TrainConfig config, T value)
    {
        var copy = (TrainConfig)CloneConfig.Invoke(config, null)!;
        Property.SetValue(copy, value);
        return copy;
    }

    /// <inheritdoc/>
    public override string Format(TrainConfig config) => FormatValue(Get(config));
    /// <inheritdoc/>
    public override TrainConfig Apply(TrainConfig config, string text) => With(config, Parse(text));

    /// <inheritdoc/>
    public override string? Check(TrainConfig config)
    {
        var value = Get(config);
        if (value is null) return null; // the null word: the network's default, or auto
        if (value is double d && !double.IsFinite(d)) return $"--{Name} must be a finite number (got {FormatValue(value)})";
        double[] numbers = value switch
        {
            int i => [i],
            long l => [l],
            double x => [x],
            int[] list => [.. list],
            _ => [],
        };
        if (numbers.FirstOrDefault(n => !InRange(n), double.NaN) is var outside && !double.IsNaN(outside))
            return $"--{Name} must be {RangeText()} (got {FormatValue(value)})";
        return check?.Invoke(value);
    }

    bool InRange(double n) =>
        !(n <= Declaration.Above) && !(n < Declaration.AtLeast) && !(n >= Declaration.Below) && !(n > Declaration.AtMost);

    /// <summary>"in [0, 1)", "> 0", "≥ 0".</summary>
    string RangeText()
    {
        var (low, lowOpen) = double.IsNaN(Declaration.Above) ? (Declaration.AtLeast, false) : (Declaration.Above, true);
        var (high, highOpen) = double.IsNaN(Declaration.Below) ? (Declaration.AtMost, false) : (Declaration.Below, true);
        static string Show(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        if (!double.IsNaN(low) && !double.IsNaN(high))
            return $"in {(lowOpen ? "(" : "[")}{Show(low)}, {Show(high)}{(highOpen ? ")" : "]")}";
        return double.IsNaN(low) ? $"{(highOpen ? "<" : "≤")} {Show(high)}" : $"{(lowOpen ? ">" : "≥")} {Show(low)}";
    }

    /// <inheritdoc/>
    public override bool SameValue(TrainConfig a, TrainConfig b) =>
        Get(a) is int[] x && Get(b) is int[] y ? x.SequenceEqual(y) : EqualityComparer<T>.Default.Equals(Get(a), Get(b));

    internal override void WriteJson(Utf8JsonWriter writer, TrainConfig config)
    {
        writer.WritePropertyName(JsonName);
        JsonSerializer.Serialize(writer, Get(config), JsonFiles.Options);
    }

    internal override TrainConfig ReadJson(ref Utf8JsonReader reader, TrainConfig config) =>
        With(config, JsonSerializer.Deserialize<T>(ref reader, JsonFiles.Options)!);

    /// <summary>Culture-invariant parsing; the message names the setting and the expected form.</summary>
    public T Parse(string text)
    {
        text = text.Trim();
        if (Declaration.NullWord is { } word && text.Equals(word, StringComparison.OrdinalIgnoreCase)) return default!;
        object? value = valueType switch
        {
            var t when t == typeof(int) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i : null,
            var t when t == typeof(long) => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            // Float: digits, one '.', an exponent; no thousands separators, so "0,5" is refused rather than read as 5.
            var t when t == typeof(double) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            var t when t == typeof(bool) => text.ToLowerInvariant() switch
            {
                "true" or "on" or "yes" or "1" => true,
                "false" or "off" or "no" or "0" => false,
                _ => null,
            },
            var t when t == typeof(int[]) => ParseList(text),
            var t when t == typeof(string) => text.Length == 0 ? null : Declaration.LowerCase ? text.ToLowerInvariant() : text,
            var t when t.IsEnum => Choices.FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } n
                ? Enum.Parse(t, n, ignoreCase: true) : null,
            _ => throw new InvalidOperationException($"setting {Name} has the unsupported type {typeof(T).Name}"),
        };
        if (value is null)
            throw new ConfigException(valueType.IsEnum
                ? $"unknown {Name} '{text}'; choose one of: {string.Join(", ", Choices)}"
                : $"--{Name}: '{text}' is not {Expected()}");
        return (T)value;
    }

    /// <summary>The values an enum setting may take, lower case.</summary>
    IEnumerable<string> Choices =>
        Declaration.Choices?.Split('|') ?? Enum.GetNames(valueType).Select(n => n.ToLowerInvariant());

    static int[]? ParseList(string text)
    {
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        var parts = text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i])) return null;
        return values;
    }

    string Expected() => valueType switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(double) => "a number (with '.' as the decimal point)",
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(int[]) => "a list of whole numbers, e.g. '30 60'",
        _ => "a value",
    } + (Declaration.NullWord is { } word ? $" or '{word}'" : "");

    string FormatValue(T value) => value switch
    {
        null => Declaration.NullWord ?? "",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int[] { Length: 0 } => "none",
        int[] list => string.Join(" ", list.Select(v => v.ToString(CultureInfo.InvariantCulture))),
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };
}

/// <summary>When a setting takes effect: another setting has one of some values, or is above a number.</summary>
/// <param name="SettingName">The setting the condition looks at.</param>
/// <param name="Values">The values (as <see cref="Setting.Format"/> writes them) under which it holds; empty when <paramref name="Above"/> is given.</param>
/// <param name="Above">The number the setting must exceed, or null.</param>
public sealed record SettingCondition(string SettingName, IReadOnlyList<string> Values, double? Above)
{
    /// <summary>"optimizer=muon", "schedule=step|multistep", "low-res&gt;0".</summary>
    internal static SettingCondition Parse(string text, string owner)
    {
        int at = text.IndexOfAny(['=', '>']);
        if (at <= 0) throw new InvalidOperationException($"setting {owner}: cannot read the condition '{text}'");
        var name = text[..at];
        return text[at] == '>'
            ? new(name, [], double.Parse(text[(at + 1)..], CultureInfo.InvariantCulture))
            : new(name, text[(at + 1)..].Split('|'), null);
    }

    /// <summary>Whether the condition is true of <paramref name="config"/>.</summary>
    public bool Holds(TrainConfig config)
    {
        var setting = TrainSettings.Get(SettingName);
        return Above is { } bound
            ? Convert.ToDouble(setting.Value(config), CultureInfo.InvariantCulture) > bound
            : Values.Contains(setting.Format(config));
    }

    /// <summary>"--optimizer muon", "--schedule step or multistep", "--low-res above 0".</summary>
    public override string ToString() =>
        $"--{SettingName} " + (Above is { } bound ? $"above {bound.ToString(CultureInfo.InvariantCulture)}" : string.Join(" or ", Values));
}
