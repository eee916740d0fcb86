using Cifar10.Training;

namespace Cifar10.Tests;

/// <summary>Configs as `train` resolves them, for tests.</summary>
static class Configs
{
    /// <summary>`train --model NAME` and the given settings: the model's recipe, then the settings.</summary>
    public static TrainConfig For(string model, params (string Name, string Value)[] settings) =>
        TrainSettings.Resolve([new("model", model), .. settings.Select(s => new KeyValuePair<string, string>(s.Name, s.Value))]);

    /// <summary>The fast network with the airbench94 recipe (the default `train` is <c>For("fast")</c>, with muon).</summary>
    public static TrainConfig Fast => For("fast", ("recipe", "airbench94"));
}
