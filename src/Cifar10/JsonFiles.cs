using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cifar10;

/// <summary>How every JSON file of the toolkit is written and read (config.json, state.json,
/// results.json, eval.json, sweep.json, predict --json, the server's answers): snake_case keys, enums as
/// lower-case names, and a number that is not finite (a run without a validation set has no best
/// validation accuracy) as null, since JSON has no NaN; the "NaN" strings of earlier versions still read.</summary>
internal static class JsonFiles
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters =
        {
            new JsonStringEnumConverter(new LowerCaseNames(), allowIntegerValues: false),
            new NullForNonFiniteDouble(),
            new NullForNonFiniteFloat(),
        },
    };

    /// <summary>The same conventions on one line (JSON Lines output, HTTP responses).</summary>
    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    /// <summary>Reads <paramref name="path"/> as a <typeparamref name="T"/>; any problem becomes a
    /// <paramref name="error"/> exception whose one-line message names the file.</summary>
    public static T Read<T>(string path, Func<string, Exception> error)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw error($"{path} cannot be read: {e.Message}");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(text, Options) ?? throw error($"{path} is empty (null)");
        }
        catch (JsonException e) when (e.Path is { Length: > 2 } at && e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            // .NET names its own types ("could not be converted to Cifar10.Training.PrecisionMode"): say what the value should be instead.
            throw error($"{path} is not a valid {typeof(T).Name} file: {at[2..]} (line {e.LineNumber + 1}) is not {Expected(typeof(T), at)}");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw error($"{path} is not a valid {typeof(T).Name} file: {OneLine.Of(e.Message)}");
        }
    }

    /// <summary>NaN and the infinities are written as null and read back from null as NaN.</summary>
    sealed class NullForNonFiniteDouble : JsonConverter<double>
    {
        public override bool HandleNull => true;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            NonFinite(ref reader) ?? reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }

    sealed class NullForNonFiniteFloat : JsonConverter<float>
    {
        public override bool HandleNull => true;

        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            (float?)NonFinite(ref reader) ?? reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }

    /// <summary>null, or the strings "NaN", "Infinity" and "-Infinity" that earlier versions wrote; null for a number.</summary>
    static double? NonFinite(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Null => double.NaN,
        JsonTokenType.String => reader.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var text => throw new JsonException($"'{text}' is not a number"),
        },
        _ => null,
    };

    /// <summary>What the value at <paramref name="jsonPath"/> ($.a.b[0].c) of a <paramref name="type"/> must be, in words.</summary>
    static string Expected(Type type, string jsonPath)
    {
        foreach (var segment in jsonPath[2..].Split('.'))
        {
            var name = segment.Split('[')[0];
            var property = type.GetProperties().FirstOrDefault(p => Options.PropertyNamingPolicy!.ConvertName(p.Name) == name);
            if (property is null) return "a valid value";
            type = property.PropertyType;
            if (segment.Contains('[')) type = type.IsArray ? type.GetElementType()! : type.GetGenericArguments().LastOrDefault() ?? type;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => new LowerCaseNames().ConvertName(n)));
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type.IsPrimitive || type == typeof(decimal)) return "a number";
        if (type.IsArray || type.IsAssignableTo(typeof(System.Collections.IEnumerable))) return "a list";
        return "an object";
    }

    /// <summary>"OneCycle" → "onecycle", "AdamW" → "adamw", "Bf16" → "bf16": the spellings the
    /// options and the files have always used.</summary>
    sealed class LowerCaseNames : JsonNamingPolicy
    {
        public override string ConvertName(string name) => name.ToLowerInvariant();
    }
}
