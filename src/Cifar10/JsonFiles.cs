using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cifar10;

/// <summary>How every JSON file of the toolkit is written and read (config.json, state.json,
/// results.json, eval.json, sweep.json): snake_case keys, enums as lower-case names, NaN allowed
/// (a run without a validation set has no best validation accuracy).</summary>
public static class JsonFiles
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(new LowerCaseNames(), allowIntegerValues: false) },
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
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw error($"{path} is not a valid {typeof(T).Name} file: {OneLine.Of(e.Message)}");
        }
    }

    /// <summary>"OneCycle" → "onecycle", "AdamW" → "adamw", "Bf16" → "bf16": the spellings the
    /// options and the files have always used.</summary>
    sealed class LowerCaseNames : JsonNamingPolicy
    {
        public override string ConvertName(string name) => name.ToLowerInvariant();
    }
}
