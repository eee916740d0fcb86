using Cifar10.Cli;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>Settings as the user meets them: refused where they would be ignored, suggested when mistyped,
/// offered only where they mean something, and defaults that fit small data.</summary>
[Collection(GlobalTorchState.Name)]
public class SettingUsageTests : IDisposable
{
    readonly TempFolder temp = new();
    public void Dispose() => temp.Dispose();

    static void AssertOneLine(string err) => Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    [Theory]
    [InlineData("--model simple --muon-lr 0.1", "--muon-lr applies only with --optimizer muon (here --optimizer is sgd)")]
    [InlineData("--model simple --muon-momentum 0.5", "--muon-momentum applies only with --optimizer muon")]
    [InlineData("--model fast --recipe airbench94 --low-res-fraction 0.3", "--low-res-fraction applies only with --low-res above 0 (here --low-res is 0)")]
    [InlineData("--model simple --step-size 5", "--step-size applies only with --schedule step (here --schedule is linear)")]
    [InlineData("--model simple --schedule cosine --gamma 0.5", "--gamma applies only with --schedule step or multistep")]
    [InlineData("--model simple --tta-confidence 0.5", "--tta-confidence applies only with --tta true")]
    [InlineData("--model simple --crop false --crop-padding 2", "--crop-padding applies only with --crop true")]
    public void ASettingTheRunWouldIgnoreIsAUsageError(string args, string expected)
    {
        var (code, _, err) = Cli.Run(["train", .. args.Split(' '), "--data", "/nonexistent"]);
        Assert.Equal(Program.UsageError, code);
        Assert.Contains(expected, err);
        AssertOneLine(err);
    }

    [Fact]
    public void SettingsThatApplyAreAccepted()
    {
        Configs.For("simple", ("optimizer", "muon"), ("muon-lr", "0.1"), ("muon-fallback", "adam"));
        Configs.For("fast", ("low-res-fraction", "0.3")); // the muon recipe trains its first epochs at --low-res 24
        Configs.For("simple", ("schedule", "multistep"), ("milestones", "2 4"), ("gamma", "0.5"));
        Configs.For("simple", ("tta", "true"), ("tta-confidence", "0.5"));
        Configs.For("fast", ("tta-confidence", "0.5")); // the muon recipe measures the test set with TTA
    }

    [Fact]
    public void MuonIsNeitherOfferedNorAcceptedAsItsOwnFallback()
    {
        var (_, help, _) = Cli.Run("train", "--help");
        var line = help.Split('\n').Single(l => l.Contains("--muon-fallback"));
        Assert.Contains("<sgd|adam|adamw>", line);
        var (code, _, err) = Cli.Run("train", "--optimizer", "muon", "--muon-fallback", "muon", "--data", "/nonexistent");
        Assert.Equal(Program.UsageError, code);
        Assert.Contains("unknown muon-fallback 'muon'; choose one of: sgd, adam, adamw", err);
    }

    [Theory]
    [InlineData("train --epoch 3", "did you mean --epochs?")]
    [InlineData("train --learning-rat 0.1", "")]
    [InlineData("trian --epochs 3", "did you mean train?")]
    [InlineData("eval --checkpont x", "did you mean --checkpoint?")]
    public void AnUnknownOptionSuggestsTheClosestOne(string args, string suggestion)
    {
        var (code, _, err) = Cli.Run(args.Split(' '));
        Assert.Equal(Program.UsageError, code);
        Assert.Contains($"'{args.Split(' ')[args.StartsWith("trian") ? 0 : 1]}'", err);
        if (suggestion.Length > 0) Assert.Contains(suggestion, err);
        else Assert.DoesNotContain("did you mean", err);
        AssertOneLine(err);
    }

    [Fact]
    public void LrFindOffersOnlyTheSettingsItUses()
    {
        var (code, help, _) = Cli.Run("lr-find", "--help");
        Assert.Equal(Program.Success, code);
        foreach (var used in new[] { "--model", "--batch-size", "--optimizer", "--weight-decay", "--subset", "--crop", "--seed", "--threads" })
            Assert.Contains(used, help);
        foreach (var unused in new[] { "--epochs", "--schedule", "--lr ", "--warmup", "--early-stop", "--tta", "--eval-batch-size", "--lookahead" })
            Assert.DoesNotContain(unused, help);
        var (refused, _, err) = Cli.Run("lr-find", "--epochs", "3");
        Assert.Equal(Program.UsageError, refused);
        Assert.Contains("--epochs", err);
    }

    [Fact]
    public void TheValidationSplitAdaptsToTheData()
    {
        Assert.Equal(5000, new TrainConfig().ValidationImages(50_000));
        Assert.Equal(26, new TrainConfig().ValidationImages(261));
        Assert.Equal(0, new TrainConfig { ValidationSize = 0 }.ValidationImages(50_000));
        Assert.Equal(100, new TrainConfig { ValidationSize = 100 }.ValidationImages(261));
    }

    [Fact]
    public void ASmallImageFolderTrainsWithTheDefaultSplitAndATooLargeOneNamesTheOption()
    {
        var root = temp.Combine("pets");
        ImageFolders.Write(root, perClass: 87, test: false); // 261 images, as small as a user's first folder
        var run = temp.Combine("run");
        var (code, output, err) = Cli.Run("train", "--model", "simple", "--epochs", "1", "--test-size", "30", "--threads", "1",
                                          "--data", root, "--out", run);
        Assert.True(code == Program.Success, err);
        Assert.Contains("test accuracy", output);
        Assert.Contains("\"val_size\": null", File.ReadAllText(Path.Combine(run, "config.json")));

        var (refused, _, message) = Cli.Run("train", "--model", "simple", "--epochs", "1", "--test-size", "30", "--val-size", "5000",
                                            "--data", root, "--out", temp.Combine("run2"));
        Assert.Equal(Program.UsageError, refused);
        Assert.Contains("--val-size 5,000 leaves no training images of the 231", message);
        AssertOneLine(message);
    }
}
