using Google.Protobuf;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Onnx;

/// <summary>
/// A network that writes its own ONNX graph. TorchSharp has no tracer or exporter, so each network
/// with a hand-written forward restates it here with the <see cref="OnnxGraph"/> helpers, next to its
/// forward (a test compares ONNX Runtime's logits with TorchSharp's for every network). Flat stacks
/// (Sequential, LayerStack) and the common layers need nothing: <see cref="OnnxGraph.Module"/> knows them.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Adds the network's nodes, from the normalised input <paramref name="input"/> to the logits it returns.</summary>
    string ExportOnnx(OnnxGraph graph, string input);
}

/// <summary>Builds an ONNX graph (opset <see cref="Opset"/>) node by node; values are named by strings.</summary>
public sealed class OnnxGraph
{
    /// <summary>Every operator used here is defined unchanged from opset 13 on; 17 is read by any ONNX Runtime of the last years.</summary>
    public const int Opset = 17;

    readonly GraphProto graph = new() { Name = "cifar10" };
    int next;

    /// <summary>An empty graph; <see cref="Export.ModelExport.SaveOnnx"/> makes one per export.</summary>
    internal OnnxGraph() { }

    string Fresh(string hint) => $"{hint}_{next++}";

    internal GraphProto Proto => graph;

    /// <summary>A graph input: float32 or uint8 [batch, channels, height, width] with a dynamic batch dimension.</summary>
    internal string Input(string name, TensorProto.Types.DataType type, long channels, long height, long width)
    {
        graph.Input.Add(Value(name, type, [null, channels, height, width]));
        return name;
    }

    /// <summary>A graph output [batch, features].</summary>
    internal void Output(string value, string name, long features)
    {
        var output = Node("Identity", [value], name: name);
        graph.Output.Add(Value(output, TensorProto.Types.DataType.Float, [null, features]));
    }

    static ValueInfoProto Value(string name, TensorProto.Types.DataType type, long?[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is { } size ? new TensorShapeProto.Types.Dimension { DimValue = size } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>A float32 constant (an initializer) holding <paramref name="value"/>'s numbers.</summary>
    public string Constant(Tensor value, string hint)
    {
        using var scope = NewDisposeScope();
        var data = value.detach().to(float32).cpu().contiguous();
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(data.shape);
        proto.RawData = ByteString.CopyFrom(data.bytes);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A float32 constant of <paramref name="values"/> in <paramref name="shape"/> (an empty shape for a scalar); <paramref name="hint"/> starts its name.</summary>
    public string Constant(float[] values, long[] shape, string hint)
    {
        using var t = tensor(values).reshape(shape);
        return Constant(t, hint);
    }

    /// <summary>An int64 constant, for shape-like inputs.</summary>
    public string Int64Constant(long[] values, string hint)
    {
        var proto = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a node of operator <paramref name="op"/>; returns the name of its (first) output.</summary>
    public string Node(string op, IEnumerable<string> inputs, IReadOnlyDictionary<string, object>? attributes = null, string? name = null)
    {
        var output = name ?? Fresh(op.ToLowerInvariant());
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (key, value) in attributes ?? new Dictionary<string, object>())
            node.Attribute.Add(value switch
            {
                long i => new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Int, I = i },
                int i => new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Int, I = i },
                float f => new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Float, F = f },
                double f => new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Float, F = (float)f },
                long[] ints => Ints(key, ints),
                _ => throw new ArgumentException($"attribute {key} of {op}: unsupported type {value.GetType().Name}"),
            });
        graph.Node.Add(node);
        return output;
    }

    static AttributeProto Ints(string key, long[] values)
    {
        var attribute = new AttributeProto { Name = key, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    static Dictionary<string, object> Attributes(params (string Key, object Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    // ---- the operators the networks use

    /// <summary>ReLU of <paramref name="x"/>.</summary>
    public string Relu(string x) => Node("Relu", [x]);

    /// <summary>Exact GELU: x · ½(1 + erf(x/√2)), as TorchSharp's default.</summary>
    public string Gelu(string x)
    {
        var scaled = Node("Mul", [x, Constant([(float)(1 / Math.Sqrt(2))], [], "inv_sqrt2")]);
        var erf = Node("Erf", [scaled]);
        var onePlus = Node("Add", [erf, Constant([1f], [], "one")]);
        var half = Node("Mul", [x, Constant([0.5f], [], "half")]);
        return Node("Mul", [half, onePlus]);
    }

    /// <summary>The element-wise sum (with broadcasting) of <paramref name="a"/> and <paramref name="b"/>, as a residual connection adds.</summary>
    public string Add(string a, string b) => Node("Add", [a, b]);

    /// <summary><paramref name="x"/> multiplied by the constant <paramref name="factor"/>.</summary>
    public string Scale(string x, double factor) => Node("Mul", [x, Constant([(float)factor], [], "scale")]);

    /// <summary>[batch, ...] to [batch, features], as <c>x.flatten(1)</c>.</summary>
    public string Flatten(string x) => Node("Flatten", [x], Attributes(("axis", 1L)));

    /// <summary>Max-pooling over square windows of <paramref name="kernel"/>, with the stride of the kernel unless given, as <c>max_pool2d</c>.</summary>
    public string MaxPool(string x, long kernel, long? stride = null, long padding = 0) =>
        Node("MaxPool", [x], Attributes(("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride ?? kernel, stride ?? kernel }),
                                        ("pads", new[] { padding, padding, padding, padding })));

    /// <summary>Average pooling over square windows, padding counted as zeros, as <c>avg_pool2d</c>.</summary>
    public string AveragePool(string x, long kernel, long? stride = null, long padding = 0) =>
        Node("AveragePool", [x], Attributes(("kernel_shape", new[] { kernel, kernel }), ("strides", new[] { stride ?? kernel, stride ?? kernel }),
                                            ("pads", new[] { padding, padding, padding, padding }), ("count_include_pad", 1L)));

    /// <summary>A 2-D convolution with <paramref name="weight"/> [out, in/groups, kh, kw] and an optional bias, as <c>conv2d</c>.</summary>
    public string Conv(string x, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation, long groups)
    {
        var inputs = new List<string> { x, Constant(weight, "conv_weight") };
        if (bias is not null) inputs.Add(Constant(bias, "conv_bias"));
        return Node("Conv", inputs, Attributes(("kernel_shape", weight.shape[2..]), ("strides", stride), ("dilations", dilation),
                                               ("pads", (long[])[.. padding, .. padding]), ("group", groups)));
    }

    /// <summary>Batch norm with its running statistics (eval mode); a non-affine one gets scale 1 and bias 0.</summary>
    public string BatchNorm(NormBase norm, string x)
    {
        long features = norm.num_features;
        using var ones = torch.ones(features);
        using var zeros = torch.zeros(features);
        return Node("BatchNormalization",
            [x, Constant(norm.weight ?? ones, "bn_scale"), Constant(norm.bias ?? zeros, "bn_bias"),
             Constant(norm.running_mean!, "bn_mean"), Constant(norm.running_var!, "bn_var")],
            Attributes(("epsilon", norm.eps)));
    }

    /// <summary>A linear layer on [batch, features]: Gemm with the weight transposed, as PyTorch stores it.</summary>
    public string Linear(Linear linear, string x)
    {
        var inputs = new List<string> { x, Constant(linear.weight!, "fc_weight") };
        if (linear.bias is not null) inputs.Add(Constant(linear.bias, "fc_bias"));
        return Node("Gemm", inputs, Attributes(("transB", 1L)));
    }

    /// <summary>
    /// Any module: a network or block that exports itself (<see cref="IOnnxExportable"/>), a Sequential
    /// (its children in order), or one of the common layers. Anything else is named in the error.
    /// </summary>
    public string Module(nn.Module module, string x) => module switch
    {
        IOnnxExportable exportable => exportable.ExportOnnx(this, x),
        Sequential sequential => sequential.named_children().Aggregate(x, (value, child) => Module(child.module, value)),
        Conv2d conv => Conv(x, conv.weight!, conv.bias, conv.stride, conv.padding ?? throw new NotSupportedException("a Conv2d with padding given by name (same, valid) has no ONNX export: give it numeric padding"), conv.dilation, conv.groups),
        NormBase norm => BatchNorm(norm, x),
        Linear linear => Linear(linear, x),
        ReLU => Relu(x),
        GELU => Gelu(x),
        Dropout => x, // identity in eval mode
        Flatten flatten when flatten.start_dim == 1 && flatten.end_dim == -1 => Flatten(x),
        MaxPool2d pool when !pool.ceil_mode && pool.dilation.All(d => d == 1) && pool.kernel_size[0] == pool.kernel_size[1] =>
            MaxPool(x, pool.kernel_size[0], pool.stride?[0], pool.padding?[0] ?? 0),
        AvgPool2d pool when !pool.ceil_mode && pool.kernel_size[0] == pool.kernel_size[1] =>
            AveragePool(x, pool.kernel_size[0], pool.stride?[0], pool.padding?[0] ?? 0),
        AdaptiveAvgPool2d pool when pool.output_size.All(s => s == 1) => Node("GlobalAveragePool", [x]),
        _ => throw new NotSupportedException($"{module.GetType().Name} has no ONNX export: implement IOnnxExportable on the network"),
    };

    /// <summary>The model: the graph with its operator set, producer and metadata.</summary>
    internal ModelProto ToModel(IReadOnlyDictionary<string, string> metadata, string producerVersion)
    {
        var model = new ModelProto
        {
            IrVersion = 8, // ONNX 1.10+, the IR that opset 17 came with
            ProducerName = "cifar10 (Cifar10.Core)",
            ProducerVersion = producerVersion,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata)
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }
}
