using Cifar10.Models;
using Xunit;

namespace Cifar10.Tests.Models;

public class ModelCatalogTests
{
    private static readonly string[] ExpectedNames =
        ["simple", "deep", "wide", "tutorial", "vgg16", "resnet18", "resnet18-imagenet", "fast"];

    [Fact]
    public void ListsEveryNetworkOnceInOrder()
    {
        // The built-in networks first; a test elsewhere registers one more.
        Assert.Equal(ExpectedNames, ModelCatalog.All.Select(m => m.Name).Take(ExpectedNames.Length));
        Assert.Equal(ModelCatalog.All.Count, ModelCatalog.All.Select(m => m.Name).Distinct().Count());
        Assert.All(ModelCatalog.All.Take(ExpectedNames.Length), m =>
        {
            Assert.False(string.IsNullOrWhiteSpace(m.Description));
            Assert.False(string.IsNullOrWhiteSpace(m.Source));
            Assert.False(string.IsNullOrWhiteSpace(m.ReportedAccuracy));
        });
    }

    [Fact]
    public void FlagsWhichNetworksTakeDropoutAndDepthAndComputeInBf16()
    {
        Assert.Equal(["deep", "wide", "vgg16"], ModelCatalog.All.Where(m => m.HasDropout).Select(m => m.Name));
        Assert.Equal(["tutorial"], ModelCatalog.All.Where(m => m.HasDepth).Select(m => m.Name));
        Assert.All(ModelCatalog.BuiltIn, m => Assert.True(m.SupportsBf16, m.Name)); // every built-in network
        Assert.Equal(["fast"], ModelCatalog.All.Where(m => m.DefaultRecipe == "muon").Select(m => m.Name));
    }

    [Fact]
    public void RegisteringTakesANewNameOnceAndRefusesATakenOne()
    {
        var info = ModelInfo.For("catalog-test-net", o => new SimpleNet(o.NumClasses)) with { Description = "a SimpleNet under another name" };
        Assert.Same(ModelCatalog.Register(info), ModelCatalog.Register(info)); // the same entry again: a no-op
        Assert.Throws<ArgumentException>(() => ModelCatalog.Register(info with { Description = "another" }));
        Assert.Throws<ArgumentException>(() => ModelCatalog.Register(ModelInfo.For("simple", o => new SimpleNet(o.NumClasses))));
        Assert.Throws<ArgumentException>(() => ModelCatalog.Register(ModelInfo.For("has space", o => new SimpleNet(o.NumClasses))));
        using var model = ModelCatalog.Create("Catalog-Test-Net");
        Assert.IsType<SimpleNet>(model);
    }

    [Theory]
    [InlineData("ResNet18", "resnet18")]
    [InlineData("WIDE", "wide")]
    [InlineData("resnet18-ImageNet", "resnet18-imagenet")]
    public void LooksNamesUpIgnoringCase(string query, string expected)
    {
        Assert.Equal(expected, ModelCatalog.Get(query).Name);
    }

    [Theory]
    [InlineData("resnet")]
    [InlineData("")]
    [InlineData("vgg")]
    public void UnknownNameListsTheChoices(string name)
    {
        var error = Assert.Throws<ConfigException>(() => ModelCatalog.Create(name, new ModelOptions()));

        Assert.StartsWith(
            $"unknown model '{name}'; choose one of: simple, deep, wide, tutorial, vgg16, resnet18, resnet18-imagenet, fast",
            error.Message);
        Assert.Throws<ConfigException>(() => ModelCatalog.Get(name));
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("tutorial")]
    [InlineData("resnet18")]
    [InlineData("resnet18-imagenet")]
    public void DropoutForANetworkWithoutDropoutIsRejected(string name)
    {
        // A ConfigException, not out of range: the value is fine, the option does not apply.
        var error = Assert.Throws<ConfigException>(() => ModelCatalog.Create(name, new ModelOptions(Dropout: 0.2)));

        Assert.Contains($"model '{name}' has no dropout", error.Message);
    }

    [Theory]
    [InlineData("deep", 1.0)]
    [InlineData("deep", -0.1)]
    [InlineData("wide", 1.5)]
    [InlineData("wide", double.NaN)]
    public void DropoutOutsideZeroToOneIsOutOfRange(string name, double p)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ModelCatalog.Create(name, new ModelOptions(Dropout: p)));

        Assert.Contains("dropout probability must be in [0, 1)", error.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.999)]
    public void DropoutAtTheEdgesOfTheRangeIsAccepted(double p)
    {
        using var model = ModelCatalog.Create("wide", new ModelOptions(Dropout: p));

        Assert.NotNull(model);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(0)]
    public void TutorialDepthOutsideTwoToFourIsOutOfRange(int depth)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => ModelCatalog.Create("tutorial", new ModelOptions(Depth: depth)));

        Assert.Equal("depth", error.ParamName);
        Assert.Contains("tutorial depth must be between 2 and 4", error.Message);
    }

    [Theory]
    [InlineData("simple", 0)]
    [InlineData("resnet18", -1)]
    public void NumberOfClassesMustBePositive(string name, int classes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelCatalog.Create(name, new ModelOptions(NumClasses: classes)));
    }

    [Fact]
    public void InfoCreateValidatesLikeCatalogCreate()
    {
        var simple = ModelCatalog.Get("simple");

        Assert.Throws<ConfigException>(() => simple.Create(new ModelOptions(Dropout: 0.5)));
    }
}
