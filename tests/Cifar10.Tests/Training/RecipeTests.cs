using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Training;

/// <summary>
/// The write-ups' recipes restate what each write-up trained with (issue 26 item 1): each resolves for its network
/// and keeps the write-up's values, so that a later edit cannot drift from them unnoticed.
/// </summary>
public class RecipeTests
{
    [Fact]
    public void EveryWriteupHasARecipeUnderItsName()
    {
        Assert.Equal(["pytorch-tutorial", "simple-deep-writeup", "resnet18-writeup", "vgg16-writeup", "wide-writeup"],
                     Recipes.Writeups.Select(r => r.Name));
        Assert.All(Recipes.Writeups, r =>
        {
            Assert.Same(r, Recipes.Get(r.Name));
            Assert.Equal(r.Name, r.Defaults.Recipe);
            Assert.Contains(r.Name == "pytorch-tutorial" ? "tutorial" : "write-up", r.Description);
        });
    }

    [Theory]
    [InlineData("2")]
    [InlineData("3")]
    [InlineData("4")]
    public void ThePytorchTutorialTrainsTheTutorialNetworkWithSgdAndBatchFour(string depth)
    {
        var config = Configs.For("tutorial", ("recipe", "pytorch-tutorial"), ("depth", depth));

        Assert.Equal(int.Parse(depth), config.Depth);
        Assert.Equal((OptimizerKind.Sgd, 0.001, 0.9, 0.0, false), (config.Optimizer, config.LearningRate, config.Momentum, config.WeightDecay, config.Nesterov));
        Assert.Equal((4, 2, ScheduleKind.Constant), (config.BatchSize, config.Epochs, config.Schedule));
        Assert.Equal((false, false, 0.0), (config.RandomCrop, config.HorizontalFlip, config.LabelSmoothing));
    }

    [Theory]
    [InlineData("simple", "simple-deep-writeup")]
    [InlineData("deep", "simple-deep-writeup")]
    [InlineData("resnet18-imagenet", "resnet18-writeup")]
    public void TheSimpleDeepAndResNetWriteupDecaysToOneThousandthAfterTheFourthOfEightEpochs(string model, string recipe)
    {
        var config = Configs.For(model, ("recipe", recipe));

        Assert.Equal((OptimizerKind.Sgd, 0.01, 0.9, 0.0), (config.Optimizer, config.LearningRate, config.Momentum, config.WeightDecay));
        Assert.Equal((8, 64, ScheduleKind.Step, 4, 0.1), (config.Epochs, config.BatchSize, config.Schedule, config.StepEpochs, config.Gamma));
        Assert.Equal((false, false), (config.RandomCrop, config.HorizontalFlip));
        Assert.Null(config.Dropout); // deep keeps its own 0.3 and 0.1
        var rates = EpochRates(config);
        Assert.Equal([0.01, 0.01, 0.01, 0.01], rates[..4]);
        Assert.All(rates[4..], rate => Assert.Equal(0.001, rate, 1e-12)); // "after the 4th epoch, 0.001"
    }

    [Fact]
    public void TheVgg16WriteupTrainsAHundredEpochsOfAdamWithItsMultiStepDecay()
    {
        var config = Configs.For("vgg16", ("recipe", "vgg16-writeup"));

        Assert.Equal((OptimizerKind.Adam, 1e-3, 0.0), (config.Optimizer, config.LearningRate, config.WeightDecay));
        Assert.Equal((100, 64), (config.Epochs, config.BatchSize));
        Assert.Equal((ScheduleKind.Multistep, 0.5), (config.Schedule, config.Gamma));
        Assert.Equal((false, true, 0), (config.RandomCrop, config.HorizontalFlip, config.Cutout)); // flips only
        Assert.Null(config.Dropout);
        // scheduler.step(epoch) at the start of epochs 1..100: the 75th epoch is the first at 5e-4.
        var rates = EpochRates(config);
        Assert.All(rates[..74], rate => Assert.Equal(1e-3, rate));
        Assert.All(rates[74..], rate => Assert.Equal(5e-4, rate));
    }

    [Fact]
    public void TheWideWriteupTrainsTenEpochsOfAdamAtItsUsualRate()
    {
        var config = Configs.For("wide", ("recipe", "wide-writeup"));

        Assert.Equal((OptimizerKind.Adam, 1e-3, 0.0), (config.Optimizer, config.LearningRate, config.WeightDecay));
        Assert.Equal((10, 64, ScheduleKind.Constant), (config.Epochs, config.BatchSize, config.Schedule));
        Assert.Equal((false, true), (config.RandomCrop, config.HorizontalFlip));
        Assert.Null(config.Dropout); // the network's own 0.5
    }

    [Fact]
    public void AWriteupRecipeKeepsTheToolkitsValidationSplitAndTakesSettingsOnTop()
    {
        Assert.All(Recipes.Writeups, r => Assert.Null(r.Defaults.ValidationSize)); // 5,000 held out of 50,000
        var shortened = Configs.For("vgg16", ("recipe", "vgg16-writeup"), ("epochs", "6"), ("dropout", "0.5"));
        Assert.Equal((6, 0.5, OptimizerKind.Adam), (shortened.Epochs, shortened.Dropout, shortened.Optimizer));
    }

    [Theory]
    [InlineData("tutorial", "tutorial-best", 10, 64, 0.02, ScheduleKind.Linear, true)]
    [InlineData("simple", "simple-best", 30, 64, 0.02, ScheduleKind.Linear, true)]
    [InlineData("deep", "deep-best", 7, 128, 0.035, ScheduleKind.OneCycle, false)]
    [InlineData("resnet18-imagenet", "resnet18-imagenet-best", 6, 128, 0.1, ScheduleKind.OneCycle, false)]
    [InlineData("vgg16", "vgg16-best", 3, 128, 0.1, ScheduleKind.OneCycle, true)]
    [InlineData("wide", "wide-best", 3, 128, 0.03, ScheduleKind.OneCycle, true)]
    public void AWriteupsNetworkTrainsWithItsBestRecipeByDefault(string model, string recipe, int epochs, int batchSize, double peak, ScheduleKind schedule, bool crop)
    {
        var config = Configs.For(model); // `cifar10 train --model NAME`

        Assert.Equal((recipe, epochs, batchSize, peak), (config.Recipe, config.Epochs, config.BatchSize, config.LearningRate));
        Assert.Equal((OptimizerKind.Sgd, 0.9, 5e-4), (config.Optimizer, config.Momentum, config.WeightDecay));
        Assert.Equal(OptimizerKind.Adam, Configs.For(model, ("optimizer", "adam")).Optimizer); // another optimizer takes no other change
        Assert.Equal((schedule, crop, true), (config.Schedule, config.RandomCrop, config.HorizontalFlip));
        Assert.Contains(Recipes.Get(recipe), Recipes.NetworkDefaults);
    }

    [Fact]
    public void DeepsDefaultDropsItsDropoutAndAnotherNetworkOnThatRecipeIsToldHowToLeaveItUnset()
    {
        Assert.Equal(0.0, Configs.For("deep").Dropout);
        var refused = Assert.Throws<ConfigException>(() => Configs.For("resnet18", ("recipe", "deep-best")));
        Assert.Contains("--dropout default", refused.Message);
        Assert.Null(Configs.For("resnet18", ("recipe", "deep-best"), ("dropout", "default")).Dropout);
    }

    [Fact]
    public void AFixedSizeNetworkOnTheMuonRecipeIsToldHowToTurnItsProgressiveResizingOff()
    {
        var refused = Assert.Throws<ConfigException>(() => Configs.For("resnet18", ("recipe", "muon")));
        Assert.Contains("give --low-res 0", refused.Message);
        var fullSize = Configs.For("resnet18", ("recipe", "muon"), ("low-res", "0"));
        Assert.Equal((OptimizerKind.Muon, 0, 0), (fullSize.Optimizer, fullSize.LowRes, fullSize.LowResEpochs));
    }

    [Theory]
    [InlineData("resnet18", "classic")]
    [InlineData("fast", "muon")]
    public void TheOtherNetworksKeepTheirRecipes(string model, string recipe) => Assert.Equal(recipe, Configs.For(model).Recipe);

    /// <summary>The learning rate of each epoch's first step, as the trainer's schedule gives it.</summary>
    static double[] EpochRates(TrainConfig config)
    {
        const int stepsPerEpoch = 10;
        var schedule = new LearningRateSchedule(config, stepsPerEpoch);
        return Enumerable.Range(0, config.Epochs).Select(epoch => schedule.At((long)epoch * stepsPerEpoch)).ToArray();
    }
}
