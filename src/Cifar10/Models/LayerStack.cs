using Cifar10.Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>
/// A flat stack of layers run one after another, registered under the names "0", "1", … exactly like
/// PyTorch's nn.Sequential, so state-dict keys ("0.weight", "22.bias") match the PyTorch peer and a summary lists
/// every layer at depth 1. A subclass (rather than a bare Sequential) keeps the network's own type name.
/// </summary>
public abstract class LayerStack : Module<Tensor, Tensor>, IMixedPrecision, IOnnxExportable
{
    /// <summary>What the convolutions and linear layers compute in (<see cref="IMixedPrecision"/>).</summary>
    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    private readonly Module<Tensor, Tensor>[] layers;

    /// <summary>Registers <paramref name="layers"/> under "0", "1", … in order.</summary>
    /// <param name="name">The module's name (the network's class name), shown by summaries.</param>
    /// <param name="layers">The layers, at least one, in execution order.</param>
    protected LayerStack(string name, IReadOnlyList<Module<Tensor, Tensor>> layers) : base(name)
    {
        if (layers.Count == 0)
            throw new ArgumentException("a layer stack needs at least one layer", nameof(layers));

        this.layers = layers.ToArray();
        for (var i = 0; i < this.layers.Length; i++)
            register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), this.layers[i]);

        // Picks up any fields a subclass declares; the indexed layers above are already registered.
        RegisterComponents();
    }

    /// <summary>The layers in execution order.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Layers => layers;

    /// <summary>The layers applied in order to <paramref name="input"/> (channels-last in memory, as the convolutions run fastest).</summary>
    public override Tensor forward(Tensor input)
    {
        var x = MemoryFormat.ChannelsLast(input);
        // call() so that forward hooks fire; intermediate tensors belong to the caller's dispose scope.
        foreach (var layer in layers)
            x = layer.call(x);
        return x;
    }

    /// <inheritdoc/>
    public string ExportOnnx(OnnxGraph graph, string input) => layers.Aggregate(input, (x, layer) => graph.Module(layer, x));
}
