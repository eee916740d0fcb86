using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cifar10.Training;

/// <summary>
/// config.json's "config" object, written and read through the settings table: one key per setting
/// (its name with '_'), so the file, the options and --vary all spell a setting the same way. Keys
/// of earlier versions (learning_rate, validation_size, ...) still read; a setting the file does not
/// mention keeps the classic default; an unknown key is an error rather than silently dropped.
/// </summary>
internal sealed class TrainConfigJsonConverter : JsonConverter<TrainConfig>
{
    public override void Write(Utf8JsonWriter writer, TrainConfig value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var setting in TrainSettings.All)
            setting.WriteJson(writer, value);
        writer.WriteEndObject();
    }

    public override TrainConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a config must be a JSON object");
        var config = new TrainConfig();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            var setting = TrainSettings.All.FirstOrDefault(s => s.JsonName == key || s.LegacyJsonNames.Contains(key))
                          ?? throw new JsonException($"unknown setting '{key}'");
            reader.Read();
            try
            {
                config = setting.ReadJson(ref reader, config);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
            {
                throw new JsonException($"setting '{key}': {e.Message}", e);
            }
        }
        return config;
    }
}
