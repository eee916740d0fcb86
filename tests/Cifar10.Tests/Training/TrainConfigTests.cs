using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Training;

public class TrainConfigTests
{
    [Theory]
    [InlineData(0, 128, 0.1, "--epochs must be > 0")]
    [InlineData(-1, 128, 0.1, "--epochs must be > 0")]
    [InlineData(1, 0, 0.1, "--batch-size must be > 0")]
    [InlineData(1, 128, 0.0, "--lr must be > 0")]
    [InlineData(1, 128, -0.5, "--lr must be > 0")]
    public void NonPositiveEpochsBatchOrRateAreRejected(int epochs, int batch, double rate, string message)
    {
        var e = Assert.Throws<ConfigException>(() => new TrainConfig { Epochs = epochs, BatchSize = batch, LearningRate = rate }.Validated());
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void UnknownOptimizerAndScheduleNameTheChoices()
    {
        var e = Assert.Throws<ConfigException>(() => Configs.For("simple", ("optimizer", "lion")));
        Assert.Contains("sgd, adam, adamw", e.Message);
        e = Assert.Throws<ConfigException>(() => Configs.For("simple", ("schedule", "poly")));
        Assert.Contains("onecycle", e.Message);
    }

    [Fact]
    public void NesterovNeedsSgdWithMomentum()
    {
        Assert.Throws<ConfigException>(() => new TrainConfig { Nesterov = true, Optimizer = OptimizerKind.Adam }.Validated());
        Assert.Throws<ConfigException>(() => new TrainConfig { Nesterov = true, Momentum = 0 }.Validated());
        new TrainConfig { Nesterov = true }.Validated();
    }

    [Fact]
    public void ConfigRoundTripsThroughJson()
    {
        var config = new TrainConfig { Model = "deep", Milestones = [3, 7], Dropout = 0.25, Seed = 42, Nesterov = true };
        var json = System.Text.Json.JsonSerializer.Serialize(config, JsonFiles.Options);
        var back = System.Text.Json.JsonSerializer.Deserialize<TrainConfig>(json, JsonFiles.Options)!;
        Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize(back, JsonFiles.Options));
        Assert.Equal(config, back);
        Assert.Contains("\"lr\": 0.1", json);       // the setting's own name, as in --lr and --vary lr=
        Assert.Contains("\"optimizer\": \"sgd\"", json);
    }

    [Theory]
    [InlineData(10, 4, 3)]   // 4+4+2
    [InlineData(9, 4, 2)]    // 4+4, the lone ninth image is dropped (batch norm cannot train on one)
    [InlineData(8, 4, 2)]
    [InlineData(3, 128, 1)]
    public void StepsPerEpochKeepsPartialBatchesOfTwoOrMore(int count, int batch, int expected)
    {
        Assert.Equal(expected, Trainer.StepsPerEpoch(count, batch));
    }
}
