using Cifar10.Models;
using Cifar10.Training;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

/// <summary>Mixed precision, one mechanism for every network: libtorch's autocast around the forward pass.</summary>
[Collection(GlobalTorchState.Name)]
public class PrecisionTests
{
    public static TheoryData<string> BuiltInNetworks() => [.. ModelCatalog.BuiltIn.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(BuiltInNetworks))]
    public void EveryNetworkComputesInBf16WithFloat32WeightsAndGradients(string name)
    {
        Assert.True(ModelCatalog.Get(name).SupportsBf16);
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var net = ModelCatalog.Create(name);
        Precision.Apply(net, PrecisionMode.Bf16);
        net.train();
        var input = randn(4, 3, 32, 32);
        Tensor logits, loss;
        using (Precision.ForwardScope(net))
        {
            logits = net.forward(input);
            loss = nn.functional.cross_entropy(logits, tensor(new long[] { 0, 1, 2, 3 }));
        }
        Assert.Equal(ScalarType.BFloat16, logits.dtype); // the layers really computed in bf16
        Assert.Equal(ScalarType.Float32, loss.dtype);     // autocast keeps the loss in float32
        loss.backward();
        foreach (var (parameter, p) in net.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            if (p.requires_grad) Assert.True(p.grad is not null && p.grad.dtype == ScalarType.Float32, $"{name}: {parameter} has no float32 gradient");
        }
    }

    [Theory]
    [MemberData(nameof(BuiltInNetworks))]
    public void Bf16AndFp32GiveCloseLogitsOnTheSameWeights(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var net = ModelCatalog.Create(name);
        net.eval();
        var input = randn(16, 3, 32, 32);
        using var noGrad = no_grad();
        var fp32 = net.forward(input);
        Precision.Apply(net, PrecisionMode.Bf16);
        Tensor bf16;
        using (Precision.ForwardScope(net)) bf16 = net.forward(input).@float();
        // bf16 keeps 8 bits of mantissa: logits agree to a few percent of their spread, and differ (the bf16 path ran).
        double spread = fp32.std().item<float>(), worst = (fp32 - bf16).abs().max().item<float>();
        Assert.True(worst > 0, $"{name}: bf16 gave the fp32 logits exactly");
        Assert.True(worst < 0.15 * spread, $"{name}: max |fp32 - bf16| {worst} vs logit std {spread}");
    }

    [Fact]
    public void TheScopeEndsWithItsBlockAndFp32NetworksGetNone()
    {
        using var scope = NewDisposeScope();
        using var net = ModelCatalog.Create("simple");
        var input = randn(2, 3, 32, 32);
        using (Precision.ForwardScope(net)) Assert.Equal(ScalarType.Float32, net.forward(input).dtype); // fp32 until told otherwise
        Precision.Apply(net, PrecisionMode.Bf16);
        using (Precision.ForwardScope(net)) Assert.Equal(ScalarType.BFloat16, net.forward(input).dtype);
        Assert.Equal(ScalarType.Float32, net.forward(input).dtype); // outside the scope, float32 again
    }
}
