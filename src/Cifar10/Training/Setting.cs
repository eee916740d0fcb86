using System.Globalization;
using System.Text.Json;

namespace Cifar10.Training;

/// <summary>
/// One training setting, declared once in <see cref="TrainSettings.All"/>: its name is the option
/// (<c>--lr</c>), the name <c>--vary</c> takes (<c>lr=0.1,0.01</c>) and, with '_' for '-', the
/// config.json key. It parses text (always culture-invariant: "0.5" means a half on every machine),
/// checks the value's range, reads and writes one property of <see cref="TrainConfig"/>, and
/// shows its default in each recipe.
/// </summary>
public abstract class Setting
{
    private protected Setting(string name, string help, string valueHint, string[] aliases, string[] legacyJsonNames, bool describesMachine)
    {
        Name = name;
        Help = help;
        ValueHint = valueHint;
        Aliases = aliases;
        LegacyJsonNames = legacyJsonNames;
        DescribesMachine = describesMachine;
    }

    public string Name { get; }
    public string Help { get; }
    /// <summary>What the value looks like, for help texts: "int", "number", "sgd|adam|adamw".</summary>
    public string ValueHint { get; }
    /// <summary>Extra spellings of the option, e.g. "-b" for batch-size.</summary>
    public IReadOnlyList<string> Aliases { get; }
    /// <summary>Keys earlier versions wrote to config.json for this setting; they still read.</summary>
    public IReadOnlyList<string> LegacyJsonNames { get; }
    /// <summary>A fact about the machine (threads, device), not about the run: it may change when a run resumes.</summary>
    public bool DescribesMachine { get; }
    public string JsonName => Name.Replace('-', '_');
    /// <summary>A true/false setting: the option alone means true.</summary>
    public abstract bool IsFlag { get; }
    /// <summary>A setting of several numbers, written "10 20" (or "10,20" on the command line).</summary>
    public abstract bool IsList { get; }

    /// <summary>The value in <paramref name="config"/>, boxed.</summary>
    public abstract object? Value(TrainConfig config);
    /// <summary>The value as text that <see cref="Apply"/> reads back.</summary>
    public abstract string Format(TrainConfig config);
    /// <summary><paramref name="config"/> with this setting parsed from <paramref name="text"/>; a
    /// <see cref="ConfigException"/> for text that is not a value of this setting.</summary>
    public abstract TrainConfig Apply(TrainConfig config, string text);
    /// <summary>Null when the value is in range, else the one-line reason.</summary>
    public abstract string? Check(TrainConfig config);
    public abstract bool SameValue(TrainConfig a, TrainConfig b);
    internal abstract void WriteJson(Utf8JsonWriter writer, TrainConfig config);
    internal abstract TrainConfig ReadJson(ref Utf8JsonReader reader, TrainConfig config);
}

/// <summary>A setting whose values are <typeparamref name="T"/>.</summary>
public sealed class Setting<T> : Setting
{
    private readonly Func<TrainConfig, T> get;
    private readonly Func<TrainConfig, T, TrainConfig> set;
    private readonly Func<T, string?> check;

    internal Setting(string name, string help, Func<TrainConfig, T> get, Func<TrainConfig, T, TrainConfig> set,
                     Func<T, string?>? check = null, string[]? aliases = null, string[]? legacyJsonNames = null,
                     bool describesMachine = false, string? hint = null)
        : base(name, help, hint ?? HintFor(), aliases ?? [], legacyJsonNames ?? [], describesMachine)
    {
        this.get = get;
        this.set = set;
        this.check = check ?? (_ => null);
    }

    public override bool IsFlag => typeof(T) == typeof(bool);
    public override bool IsList => typeof(T) == typeof(int[]);

    public override object? Value(TrainConfig config) => get(config);
    public override string Format(TrainConfig config) => FormatValue(get(config));
    public override TrainConfig Apply(TrainConfig config, string text) => set(config, Parse(text));
    public override string? Check(TrainConfig config) => check(get(config));

    public override bool SameValue(TrainConfig a, TrainConfig b) =>
        get(a) is int[] x && get(b) is int[] y ? x.SequenceEqual(y) : EqualityComparer<T>.Default.Equals(get(a), get(b));

    internal override void WriteJson(Utf8JsonWriter writer, TrainConfig config)
    {
        writer.WritePropertyName(JsonName);
        JsonSerializer.Serialize(writer, get(config), JsonFiles.Options);
    }

    internal override TrainConfig ReadJson(ref Utf8JsonReader reader, TrainConfig config) =>
        set(config, JsonSerializer.Deserialize<T>(ref reader, JsonFiles.Options)!);

    /// <summary>Culture-invariant parsing; the message names the setting and the expected form.</summary>
    public T Parse(string text)
    {
        text = text.Trim();
        object? value = typeof(T) switch
        {
            var t when t == typeof(int) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? i : null,
            var t when t == typeof(long) => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            var t when t == typeof(double) => ParseDouble(text),
            var t when t == typeof(double?) => text.Equals("default", StringComparison.OrdinalIgnoreCase) ? (double?)null : ParseDouble(text),
            var t when t == typeof(bool) => text.ToLowerInvariant() switch
            {
                "true" or "on" or "yes" or "1" => true,
                "false" or "off" or "no" or "0" => false,
                _ => null,
            },
            var t when t == typeof(int[]) => ParseList(text),
            var t when t == typeof(string) => text.Length > 0 ? text : null,
            var t when t.IsEnum => Enum.GetNames(t).FirstOrDefault(n => n.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } n
                ? Enum.Parse(t, n) : null,
            _ => throw new InvalidOperationException($"setting {Name} has the unsupported type {typeof(T).Name}"),
        };
        if (value is null && !(typeof(T) == typeof(double?) && text.Equals("default", StringComparison.OrdinalIgnoreCase)))
            throw new ConfigException(typeof(T).IsEnum
                ? $"unknown {Name} '{text}'; choose one of: {string.Join(", ", EnumNames(typeof(T)))}"
                : $"--{Name}: '{text}' is not {Expected()}");
        return (T)value!;
    }

    static object? ParseDouble(string text) =>
        // Float: digits, one '.', an exponent; no thousands separators, so "0,5" is refused rather than read as 5.
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    static int[]? ParseList(string text)
    {
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        var parts = text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i])) return null;
        return values;
    }

    string Expected() => typeof(T) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(double) => "a number (with '.' as the decimal point)",
        var t when t == typeof(double?) => "a number (with '.' as the decimal point) or 'default'",
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(int[]) => "a list of whole numbers, e.g. '30 60'",
        var t when t.IsEnum => "one of: " + string.Join(", ", EnumNames(t)),
        _ => "a value",
    };

    static string FormatValue(T value) => value switch
    {
        null => "default",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int[] { Length: 0 } => "none",
        int[] list => string.Join(" ", list.Select(v => v.ToString(CultureInfo.InvariantCulture))),
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    static IEnumerable<string> EnumNames(Type type) => Enum.GetNames(type).Select(n => n.ToLowerInvariant());

    static string HintFor() => typeof(T) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "int",
        var t when t == typeof(double) || t == typeof(double?) => "number",
        var t when t == typeof(bool) => "true|false",
        var t when t == typeof(int[]) => "int ...",
        var t when t.IsEnum => string.Join("|", EnumNames(t)),
        _ => "text",
    };
}
