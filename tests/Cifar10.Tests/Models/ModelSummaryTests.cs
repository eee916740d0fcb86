using System.Reflection;
using Cifar10.Models;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Models;

public class ModelSummaryTests
{
    private static readonly long[] OneImage = [1, 3, 32, 32];

    [Fact]
    public void WideSummaryHasHeaderTotalsAndLinearAsLayer23()
    {
        using var model = ModelCatalog.Create("wide", new ModelOptions());

        var text = ModelSummary.Render(model, OneImage);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var layerLines = lines.Where(l => l.StartsWith("├─") || l.StartsWith("│")).ToArray();

        var header = Assert.Single(lines, l => l.StartsWith("Layer (type:depth-idx)"));
        Assert.Contains("Output Shape", header);
        Assert.Contains("Param #", header);
        Assert.Contains("Total params: 2,211,338", lines);
        Assert.Contains("Trainable params: 2,211,338", lines);
        Assert.Equal(23, layerLines.Length);
        Assert.StartsWith("├─Conv2d: 1-1 ", layerLines[0]);
        Assert.Contains("[1, 64, 32, 32]", layerLines[0]);
        Assert.EndsWith("1,792", layerLines[0]);
        Assert.StartsWith("├─Linear: 1-23 ", layerLines[^1]);
        Assert.Contains("[1, 10]", layerLines[^1]);
        Assert.EndsWith("2,570", layerLines[^1]);
    }

    [Fact]
    public void NestedLayersAreIndentedAndNumberedPerDepth()
    {
        using var model = ModelCatalog.Create("resnet18-imagenet", new ModelOptions());

        var lines = ModelSummary.Render(model, OneImage).Split('\n');

        Assert.Contains(lines, l => l.StartsWith("├─Sequential: 1-5 ") && l.Contains("[1, 64, 8, 8]"));
        Assert.Contains(lines, l => l.StartsWith("│    └─BasicBlock: 2-1 "));
        Assert.Contains(lines, l => l.StartsWith("│    │    └─Conv2d: 3-1 ") && l.TrimEnd().EndsWith("36,864"));
        // The block's single ReLU runs twice: two rows, numbered in call order.
        Assert.Contains(lines, l => l.StartsWith("│    │    └─ReLU: 3-3 "));
        Assert.Contains(lines, l => l.StartsWith("│    │    └─ReLU: 3-6 "));
        Assert.Contains(lines, l => l.StartsWith("│    └─BasicBlock: 2-8 "));
        Assert.Contains(lines, l => l.StartsWith("├─Linear: 1-10 ") && l.Contains("[1, 10]"));
        Assert.Contains("Total params: 11,181,642", lines.Select(l => l.TrimEnd()));
    }

    [Fact]
    public void MaxDepthHidesDeeperRowsButNotTheirParameters()
    {
        using var model = ModelCatalog.Create("vgg16", new ModelOptions());

        var lines = ModelSummary.Render(model, OneImage, maxDepth: 1).Split('\n').Select(l => l.TrimEnd()).ToArray();

        Assert.DoesNotContain(lines, l => l.StartsWith("│"));
        Assert.Contains(lines, l => l.StartsWith("├─Sequential: 1-1 ") && l.Contains("[1, 512, 1, 1]"));
        Assert.Contains("Total params: 14,728,266", lines);
    }

    [Fact]
    public void RenderingRestoresTrainingModeAndRemovesItsHooks()
    {
        using var model = ModelCatalog.Create("wide", new ModelOptions());
        model.train();

        var first = ModelSummary.Render(model, OneImage);
        Assert.True(model.training);
        Assert.All(model.modules(), m => Assert.True(m.training));

        model.eval();
        var second = ModelSummary.Render(model, OneImage);
        Assert.False(model.training);
        Assert.All(model.modules(), m => Assert.False(m.training));

        Assert.Equal(first, second);
        Assert.All(model.modules().Prepend(model), m => Assert.Equal(0, HookCount(m)));
    }

    [Fact]
    public void RenderLeavesBatchNormStatisticsUntouched()
    {
        using var model = ModelCatalog.Create("wide", new ModelOptions());
        model.train();
        var bn = model.modules().OfType<BatchNorm2d>().First();
        using var before = bn.running_mean!.clone();

        ModelSummary.Render(model, [2, 3, 32, 32]);

        // A training-mode pass would have moved the running mean towards the conv bias.
        Assert.True(before.allclose(bn.running_mean!, rtol: 0, atol: 0));
    }

    [Fact]
    public void CountParametersSeparatesFrozenParameters()
    {
        using var model = ModelCatalog.Create("simple", new ModelOptions());
        var fc3 = model.named_children().Single(c => c.name == "fc3").module;
        foreach (var p in fc3.parameters()) p.requires_grad = false;

        var (total, trainable) = ModelSummary.CountParameters(model);

        Assert.Equal(80_090, total);
        Assert.Equal(80_090 - (32 * 10 + 10), trainable);
        Assert.Contains("Non-trainable params: 330", ModelSummary.Render(model, OneImage));
    }

    /// <summary>
    /// Pre- plus post-hooks registered on a module. TorchSharp keeps them in protected dictionaries
    /// (HookableModule.pre_hooks / post_hooks) with no public count, so this reads them by reflection.
    /// </summary>
    private static int HookCount(TorchSharp.torch.nn.Module module)
    {
        var count = 0;
        foreach (var fieldName in new[] { "pre_hooks", "post_hooks" })
        {
            var field = BaseTypesAndSelf(module.GetType())
                .Select(t => t.GetField(fieldName, BindingFlags.Instance | BindingFlags.NonPublic))
                .FirstOrDefault(f => f is not null)
                ?? throw new InvalidOperationException($"TorchSharp no longer has a '{fieldName}' field on {module.GetType().Name}");
            count += ((System.Collections.ICollection)field.GetValue(module)!).Count;
        }
        return count;
    }

    private static IEnumerable<Type> BaseTypesAndSelf(Type type)
    {
        for (Type? t = type; t is not null; t = t.BaseType)
            yield return t;
    }

    [Fact]
    public void RejectsAnInvalidInputShape()
    {
        using var model = ModelCatalog.Create("simple", new ModelOptions());

        Assert.Throws<ArgumentException>(() => ModelSummary.Render(model, []));
        Assert.Throws<ArgumentException>(() => ModelSummary.Render(model, [0, 3, 32, 32]));
    }
}
