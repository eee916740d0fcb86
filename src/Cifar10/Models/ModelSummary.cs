using System.Globalization;
using System.Text;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Cifar10.Models;

/// <summary>
/// A torchinfo-style summary: one row per module call, in execution order, with its output shape and parameter
/// count, then the totals. Rows are "Type: depth-index" where depth is the module's nesting level and index
/// counts calls at that depth across the whole forward pass (as torchinfo numbers them).
/// </summary>
public static class ModelSummary
{
    /// <summary>torchinfo's default: layers nested deeper than this are counted but not listed.</summary>
    public const int DefaultMaxDepth = 3;

    private const int NameWidth = 40;
    private const int ColumnWidth = 25;
    private static readonly string Rule = new('=', NameWidth + 2 * ColumnWidth);

    /// <summary>Parameters of <paramref name="module"/> and its descendants, each shared tensor counted once.</summary>
    public static (long Total, long Trainable) CountParameters(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        long total = 0, trainable = 0;
        foreach (var p in UniqueParameters(module.parameters()))
        {
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        return (total, trainable);
    }

    /// <summary>
    /// Runs one forward pass on zeros of <paramref name="inputShape"/> (eval mode, no_grad, inside a dispose scope;
    /// each module's training flag is restored afterwards) and renders the table.
    /// </summary>
    /// <param name="inputShape">Full input shape including the batch, e.g. [1, 3, 32, 32].</param>
    /// <param name="maxDepth">Deepest nesting level listed (1 = direct children only).</param>
    public static string Render(nn.Module<Tensor, Tensor> model, long[] inputShape, int maxDepth = DefaultMaxDepth)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"input shape must be non-empty with positive sizes, got {FormatShape(inputShape)}", nameof(inputShape));
        if (maxDepth < 0)
            throw new ArgumentOutOfRangeException(nameof(maxDepth), maxDepth, "max depth must be at least 0");

        var (rows, outputShape) = Trace(model, inputShape);
        var (total, trainable) = CountParameters(model);

        var text = new StringBuilder();
        text.AppendLine(Rule);
        text.AppendLine(Columns("Layer (type:depth-idx)", "Output Shape", "Param #"));
        text.AppendLine(Rule);
        text.AppendLine(Columns(TypeName(model), FormatShape(outputShape), "--"));
        foreach (var row in rows.Where(r => r.Depth <= maxDepth))
            text.AppendLine(Columns(RowName(row), FormatShape(row.OutputShape), row.Params));
        text.AppendLine(Rule);
        text.AppendLine($"Total params: {Thousands(total)}");
        text.AppendLine($"Trainable params: {Thousands(trainable)}");
        text.AppendLine($"Non-trainable params: {Thousands(total - trainable)}");
        text.AppendLine(Rule);
        text.AppendLine($"Input size (MB): {Megabytes(inputShape.Aggregate(1L, (a, b) => a * b) * sizeof(float))}");
        text.AppendLine($"Params size (MB): {Megabytes(UniqueParameters(model.parameters()).Sum(p => p.numel() * p.element_size()))}");
        text.AppendLine(Rule);
        return text.ToString();
    }

    private sealed class Row(nn.Module module, int depth, int index, string @params)
    {
        public nn.Module Module { get; } = module;
        public int Depth { get; } = depth;
        public int Index { get; } = index;
        public string Params { get; } = @params;
        public long[]? OutputShape { get; set; }
    }

    /// <summary>Records a row per module call with forward pre-/post-hooks; returns the rows and the model output shape.</summary>
    private static (List<Row> Rows, long[] OutputShape) Trace(nn.Module<Tensor, Tensor> model, long[] inputShape)
    {
        // Depth of each module = number of segments in its dotted name ("layer1.0.conv1" → 3).
        var depths = new Dictionary<nn.Module, int>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.named_modules())
            if (name.Length > 0) depths.TryAdd(module, name.Split('.').Length);

        var rows = new List<Row>();
        var open = new Stack<Row>();
        var perDepthIndex = new Dictionary<int, int>();
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var removers = new List<Action>();
        var trainingFlags = depths.Keys.Prepend(model).Select(m => (Module: m, m.training)).ToList();

        try
        {
            foreach (var (module, depth) in depths)
            {
                // TorchSharp hooks are typed by the module's forward signature; layers other than
                // Tensor → Tensor (none in this toolkit) are simply not listed.
                if (module is not nn.Module<Tensor, Tensor> layer) continue;

                var pre = layer.register_forward_pre_hook((m, input) =>
                {
                    var index = perDepthIndex[depth] = perDepthIndex.GetValueOrDefault(depth) + 1;
                    var row = new Row(m, depth, index, ParamsColumn(m, firstCall: seen.Add(m)));
                    rows.Add(row);
                    open.Push(row);
                    return null!; // null: leave the input unchanged
                });
                var post = layer.register_forward_hook((m, input, output) =>
                {
                    open.Pop().OutputShape = output.shape;
                    return null!; // null: leave the output unchanged
                });
                removers.Add(pre.remove);
                removers.Add(post.remove);
            }

            model.eval();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            var input = zeros(inputShape, dtype: ScalarType.Float32, device: device);
            var output = model.call(input);
            return (rows, output.shape);
        }
        finally
        {
            foreach (var remove in removers) remove();
            foreach (var (module, training) in trainingFlags) module.train(training);
        }
    }

    /// <summary>The module's own parameters (not its children's); "(recursive)" when a module runs again.</summary>
    private static string ParamsColumn(nn.Module module, bool firstCall)
    {
        var own = UniqueParameters(module.parameters(recurse: false)).Sum(p => p.numel());
        if (own == 0) return "--";
        return firstCall ? Thousands(own) : "(recursive)";
    }

    private static IEnumerable<Parameter> UniqueParameters(IEnumerable<Parameter> parameters) =>
        parameters.DistinctBy(p => p.Handle);

    private static string RowName(Row row)
    {
        // torchinfo: "├─Conv2d: 1-1" at depth 1, "│    └─Conv2d: 2-1" at depth 2, "│    │    └─…" at depth 3.
        var prefix = row.Depth == 1
            ? "├─"
            : string.Concat(Enumerable.Repeat("│    ", row.Depth - 1)) + "└─";
        return $"{prefix}{TypeName(row.Module)}: {row.Depth}-{row.Index}";
    }

    private static string TypeName(nn.Module module) => module.GetType().Name;

    // torchinfo's layout: each cell left-justified to its width, then one space.
    private static string Columns(string name, string shape, string @params) =>
        name.PadRight(NameWidth) + " " + shape.PadRight(ColumnWidth) + " " + @params;

    internal static string FormatShape(long[]? shape) =>
        shape is null ? "--" : "[" + string.Join(", ", shape) + "]";

    private static string Thousands(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Megabytes(long bytes) => (bytes / 1e6).ToString("F2", CultureInfo.InvariantCulture);
}
