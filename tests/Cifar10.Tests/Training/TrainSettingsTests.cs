using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Cifar10.Cli;
using Cifar10.Cli.Commands;
using Cifar10.Sweeps;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Training;

public class TrainSettingsTests
{
    /// <summary>A value of each setting other than the classic default, for the tests that set them all.</summary>
    static readonly Dictionary<string, string> Samples = new()
    {
        ["model"] = "deep", ["recipe"] = "airbench94", ["epochs"] = "3", ["batch-size"] = "7", ["micro-batch"] = "3", ["lr"] = "0.3", ["optimizer"] = "adam",
        ["momentum"] = "0.5", ["nesterov"] = "true", ["weight-decay"] = "0.01", ["norm-bias-lr-scale"] = "64",
        ["label-smoothing"] = "0.1", ["head-lr-scale"] = "0.5", ["muon-lr"] = "0.3", ["muon-momentum"] = "0.6",
        ["muon-ns-steps"] = "3", ["muon-fallback"] = "adamw", ["clip-grad-norm"] = "2.5", ["schedule"] = "step", ["step-size"] = "4",
        ["milestones"] = "2 5", ["gamma"] = "0.5", ["warmup"] = "2", ["lookahead"] = "true", ["early-stop"] = "3", ["time-limit"] = "60",
        ["dropout"] = "0.2", ["depth"] = "4", ["dataset"] = "cifar100", ["labels"] = "coarse", ["test-size"] = "100",
        ["skip-bad-images"] = "true", ["val-size"] = "10", ["subset"] = "99", ["crop"] = "false",
        ["crop-padding"] = "2", ["pad-mode"] = "reflect", ["flip"] = "off", ["alternating-flip"] = "true", ["brightness"] = "0.15", ["contrast"] = "0.25", ["cutout"] = "8", ["low-res"] = "24", ["low-res-fraction"] = "0.25",
        ["seed"] = "5000000000", ["threads"] = "3", ["device"] = "cuda:1", ["eval-batch-size"] = "77", ["precision"] = "bf16", ["distributed"] = "mpi",
        ["tta"] = "true", ["tta-confidence"] = "0.7",
    };

    static readonly string[] NotSettings = ["--data", "--out", "--force", "--resume", "--init-from", "--help", "--verbose"];

    static IEnumerable<PropertyInfo> ConfigProperties() =>
        typeof(TrainConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null); // the init-only settings; Augmentation and TestViews are derived

    [Fact]
    public void EveryConfigPropertyIsSetByExactlyOneSetting()
    {
        Assert.Equal(Samples.Keys.Order(), TrainSettings.All.Select(s => s.Name).Order());
        var changedBy = new Dictionary<string, string>();
        var original = new TrainConfig();
        foreach (var setting in TrainSettings.All)
        {
            var changed = setting.Apply(original, Samples[setting.Name]);
            var differing = ConfigProperties().Where(p => !Same(p.GetValue(original), p.GetValue(changed))).Select(p => p.Name).ToList();
            Assert.True(differing.Count == 1, $"{setting.Name} changes {string.Join(", ", differing)}");
            Assert.False(changedBy.ContainsKey(differing[0]), $"{differing[0]} is set by both {changedBy.GetValueOrDefault(differing[0])} and {setting.Name}");
            changedBy[differing[0]] = setting.Name;
        }
        Assert.Equal(ConfigProperties().Select(p => p.Name).Order(), changedBy.Keys.Order());
    }

    static bool Same(object? a, object? b) => a is int[] x && b is int[] y ? x.SequenceEqual(y) : Equals(a, b);

    [Fact]
    public void TheTrainOptionsAndTheNamesVaryTakesAreTheSettingsTable()
    {
        var train = TrainCommand.Build(new CliConsole(TextWriter.Null, TextWriter.Null, false, CancellationToken.None));
        var options = train.Options.Select(o => o.Name).Where(n => !NotSettings.Contains(n)).Order().ToList();
        Assert.Equal(TrainSettings.All.Select(s => "--" + s.Name).Order(), options);
        foreach (var setting in TrainSettings.All)
            Assert.Equal(setting.Name, VariedSetting.Parse($"{setting.Name}={Samples[setting.Name]}").Name);
    }

    [Fact]
    public void ConfigJsonHasOneKeyPerSettingSpelledAsTheOption()
    {
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(new TrainConfig(), JsonFiles.Options));
        Assert.Equal(TrainSettings.All.Select(s => s.Name.Replace('-', '_')), json.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void ConfigJsonWrittenBeforeTheTableStillReads()
    {
        // The "config" object of a run folder written by the previous version (property names, not setting names).
        const string old = """
            {"model": "fast", "dropout": null, "depth": 3, "epochs": 10, "batch_size": 1024, "learning_rate": 1.5,
             "optimizer": "sgd", "momentum": 0.85, "nesterov": true, "weight_decay": 0.0013304347826086956, "label_smoothing": 0.2,
             "schedule": "triangle", "step_epochs": 30, "milestones": [], "gamma": 0.1, "warmup_epochs": 0, "norm_bias_lr_scale": 64,
             "lookahead": true, "validation_size": 0, "random_crop": true, "crop_padding": 2, "crop_pad_mode": "reflect",
             "horizontal_flip": true, "alternating_flip": true, "cutout": 0, "train_subset": 0, "seed": 0, "threads": 0,
             "device": "cpu", "eval_batch_size": 1000, "precision": "fp32", "test_tta": true}
            """;
        var config = JsonSerializer.Deserialize<TrainConfig>(old, JsonFiles.Options)!;
        Assert.Equal(Configs.Fast with { Recipe = "", EvalBatchSize = 1000, Precision = PrecisionMode.Fp32 }, config);
        config.Validated();
    }

    [Fact]
    public void AnUnknownKeyInConfigJsonIsAnError()
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TrainConfig>("""{"lr": 0.1, "colour": "red"}""", JsonFiles.Options));
        Assert.Contains("colour", e.Message);
    }

    [Fact]
    public void NumbersAreReadTheSameUnderACommaDecimalCulture()
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            Assert.Equal("0,5", 0.5.ToString(CultureInfo.CurrentCulture)); // the culture really is comma-decimal
            var config = Configs.For("simple", ("lr", "0.01"), ("weight-decay", "0.0005"));
            Assert.Equal((0.01, 0.0005), (config.LearningRate, config.WeightDecay));
            var e = Assert.Throws<ConfigException>(() => Configs.For("simple", ("lr", "0,5")));
            Assert.Contains("'0,5' is not a number", e.Message);
            var json = JsonSerializer.Serialize(config, JsonFiles.Options);
            Assert.Contains("\"lr\": 0.01", json);
            Assert.Equal(config, JsonSerializer.Deserialize<TrainConfig>(json, JsonFiles.Options));
            Assert.Equal("0.01", TrainSettings.Get("lr").Format(config));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Theory]
    [InlineData("weight-decay", "Infinity")]
    [InlineData("gamma", "Infinity")]
    [InlineData("warmup", "Infinity")]
    [InlineData("lr", "NaN")]
    [InlineData("lr", "1e400")]
    [InlineData("momentum", "NaN")]
    [InlineData("label-smoothing", "-0.1")]
    [InlineData("clip-grad-norm", "-Infinity")]
    [InlineData("norm-bias-lr-scale", "Infinity")]
    [InlineData("threads", "1000000000")]
    [InlineData("seed", "-1")]
    public void NonFiniteAndOutOfRangeValuesAreRefused(string name, string value)
    {
        var e = Assert.Throws<ConfigException>(() => Configs.For("simple", (name, value)));
        Assert.DoesNotContain("\n", e.Message);
    }

    [Theory]
    [InlineData("alternating flips need flipping on", "flip", "false", "alternating-flip", "true")]
    [InlineData("early stopping needs a validation set", "early-stop", "2", "val-size", "0")]
    [InlineData("warm-up", "warmup", "5", "epochs", "3")]
    [InlineData("nesterov needs the sgd optimizer", "optimizer", "adam", "nesterov", "true")]
    public void SettingsThatContradictEachOtherAreRefused(string message, string a, string valueA, string b, string valueB)
    {
        var e = Assert.Throws<ConfigException>(() => Configs.For("simple", (a, valueA), (b, valueB)));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ASettingTheNetworkDoesNotHaveIsRefusedNotIgnored()
    {
        Assert.Contains("has no depth", Assert.Throws<ConfigException>(() => Configs.For("resnet18", ("depth", "4"))).Message);
        Assert.Contains("has no dropout", Assert.Throws<ConfigException>(() => Configs.For("resnet18", ("dropout", "0.3"))).Message);
        Assert.Contains("between 2 and 4", Assert.Throws<ConfigException>(() => Configs.For("tutorial", ("depth", "7"))).Message);
        Assert.Contains("more than once", Assert.Throws<ConfigException>(() => Configs.For("simple", ("lr", "0.1"), ("lr", "0.2"))).Message);
    }

    [Fact]
    public void ARecipeCanBeChosenByNameOnTopOfAnyNetwork()
    {
        var classicFast = Configs.For("fast", ("recipe", "classic"));
        Assert.Equal(("classic", 128, ScheduleKind.Cosine), (classicFast.Recipe, classicFast.BatchSize, classicFast.Schedule));
        var airbenchSimple = Configs.For("simple", ("recipe", "airbench94"), ("lr", "0.5"));
        Assert.Equal(("airbench94", 1024, 0.5), (airbenchSimple.Recipe, airbenchSimple.BatchSize, airbenchSimple.LearningRate));
        Assert.Contains("unknown recipe", Assert.Throws<ConfigException>(() => Configs.For("simple", ("recipe", "nope"))).Message);
    }

    [Fact]
    public void OnlyTheMachinesSettingsMayChangeOnResume()
    {
        TrainSettings.RefuseWithResume(["threads", "device"], "runs/x");
        var e = Assert.Throws<ConfigException>(() => TrainSettings.RefuseWithResume(["epochs", "lr", "threads"], "runs/x"));
        Assert.Contains("--epochs, --lr cannot be changed", e.Message);
    }

    [Fact]
    public void HelpShowsEachRecipesDefault()
    {
        Assert.Contains("1024 (airbench94), 128 (classic)", TrainSettings.Describe(TrainSettings.Get("batch-size")));
        Assert.EndsWith("[default: 0]", TrainSettings.Describe(TrainSettings.Get("cutout")));
        Assert.Contains("muon for fast", TrainSettings.Describe(TrainSettings.Recipe));
    }
}
