using System.CommandLine;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>The hyperparameter options shared by `train`, `sweep` and `lr-find`, and the
/// <see cref="TrainConfig"/> they describe. Defaults depend on the model: `fast` (the default)
/// starts from <see cref="TrainConfig.FastRecipe"/>, every other network from the classic settings;
/// an option given on the command line overrides either.</summary>
public sealed class TrainOptions
{
    static readonly TrainConfig fast = TrainConfig.FastRecipe;
    static readonly TrainConfig classic = new();

    public readonly Option<string> Model = new("--model", "-m") { Description = "Network (see `models`)", DefaultValueFactory = _ => fast.Model };
    public readonly Option<int?> Epochs = new("--epochs", "-e") { Description = Default("Passes over the training set", c => c.Epochs) };
    public readonly Option<int?> BatchSize = new("--batch-size", "-b") { Description = Default("Images per optimizer step", c => c.BatchSize) };
    public readonly Option<double?> LearningRate = new("--lr") { Description = Default("Peak learning rate", c => c.LearningRate) };
    public readonly Option<string?> Optimizer = new("--optimizer") { Description = Default("sgd, adam or adamw", c => c.Optimizer) };
    public readonly Option<double?> Momentum = new("--momentum") { Description = Default("SGD momentum", c => c.Momentum) };
    public readonly Option<bool?> Nesterov = new("--nesterov") { Description = Default("Nesterov momentum (sgd): true or false", c => c.Nesterov) };
    public readonly Option<double?> WeightDecay = new("--weight-decay", "--wd") { Description = Default("L2 weight decay", c => c.WeightDecay) };
    public readonly Option<double?> NormBiasLrScale = new("--norm-bias-lr-scale") { Description = Default("sgd: learning-rate multiplier of batch-norm biases (their decay step unchanged)", c => c.NormBiasLrScale) };
    public readonly Option<double?> LabelSmoothing = new("--label-smoothing") { Description = Default("Cross-entropy label smoothing", c => c.LabelSmoothing) };
    public readonly Option<string?> Schedule = new("--schedule") { Description = Default("constant, step, multistep, cosine, onecycle or triangle", c => c.Schedule) };
    public readonly Option<int> StepSize = new("--step-size") { Description = "step schedule: epochs between decays", DefaultValueFactory = _ => classic.StepEpochs };
    public readonly Option<int[]> Milestones = new("--milestones") { Description = "multistep schedule: epochs at which to decay, e.g. --milestones 30 60", AllowMultipleArgumentsPerToken = true };
    public readonly Option<double> Gamma = new("--gamma") { Description = "Decay factor of step and multistep", DefaultValueFactory = _ => classic.Gamma };
    public readonly Option<double> Warmup = new("--warmup") { Description = "Linear warm-up, in epochs", DefaultValueFactory = _ => classic.WarmupEpochs };
    public readonly Option<bool?> Lookahead = new("--lookahead") { Description = Default("Weight averaging (airbench's lookahead): true or false", c => c.Lookahead) };
    public readonly Option<double?> Dropout = new("--dropout") { Description = "Dropout probability (networks with dropout)" };
    public readonly Option<int> Depth = new("--depth") { Description = "Conv blocks of the tutorial network (2..4)", DefaultValueFactory = _ => classic.Depth };
    public readonly Option<int?> ValidationSize = new("--val-size") { Description = Default("Images held out of training for validation (0 = none)", c => c.ValidationSize) };
    public readonly Option<bool> NoCrop = new("--no-crop") { Description = "Disable the random crop" };
    public readonly Option<int?> CropPadding = new("--crop-padding") { Description = Default("Random-crop padding (maximum shift) in pixels", c => c.CropPadding) };
    public readonly Option<string?> PadMode = new("--pad-mode") { Description = Default("Random-crop border: zeros or reflect", c => c.CropPadMode) };
    public readonly Option<bool> NoFlip = new("--no-flip") { Description = "Disable horizontal flips" };
    public readonly Option<bool?> AlternatingFlip = new("--alternating-flip") { Description = Default("Flip every image on every other epoch instead of at random: true or false", c => c.AlternatingFlip) };
    public readonly Option<int> Cutout = new("--cutout") { Description = "Cutout square size in pixels (0 = off)", DefaultValueFactory = _ => classic.Cutout };
    public readonly Option<int> Subset = new("--subset") { Description = "Train on only the first N training images (0 = all)", DefaultValueFactory = _ => 0 };
    public readonly Option<long> Seed = new("--seed") { Description = "Seed of every random choice; same seed, same machine, same run", DefaultValueFactory = _ => classic.Seed };
    public readonly Option<int> EvalBatchSize = new("--eval-batch-size") { Description = "Batch size for validation and test", DefaultValueFactory = _ => classic.EvalBatchSize };
    public readonly Option<string> Precision = new("--precision") { Description = "auto, fp32 or bf16 (fast only: convolutions in bfloat16, weights and batch norm in float32); auto = bf16 where the CPU has native bf16", DefaultValueFactory = _ => classic.Precision };
    public readonly Option<bool?> TestTta = new("--test-tta") { Description = Default("Final test accuracy with test-time augmentation (mirror, one-pixel shifts): true or false", c => c.TestTta) };
    public readonly Option<int> Threads = CommonOptions.Threads();
    public readonly Option<string> Device = CommonOptions.Device();

    static string Default<T>(string description, Func<TrainConfig, T> value)
    {
        string Show(T v) => v is bool b ? (b ? "true" : "false") : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!;
        return $"{description} [default: {Show(value(fast))} for fast, {Show(value(classic))} for the others]";
    }

    public void AddTo(Command command)
    {
        Option[] all = [Model, Epochs, BatchSize, LearningRate, Optimizer, Momentum, Nesterov, WeightDecay, NormBiasLrScale,
                        LabelSmoothing, Schedule, StepSize, Milestones, Gamma, Warmup, Lookahead, Dropout, Depth, ValidationSize,
                        NoCrop, CropPadding, PadMode, NoFlip, AlternatingFlip, Cutout, Subset, Seed, EvalBatchSize, Precision,
                        TestTta, Threads, Device];
        foreach (var option in all) command.Options.Add(option);
    }

    public TrainConfig ToConfig(ParseResult parsed)
    {
        var model = parsed.GetValue(Model)!.ToLowerInvariant();
        var d = TrainConfig.DefaultsFor(model);
        return d with
        {
            Epochs = parsed.GetValue(Epochs) ?? d.Epochs,
            BatchSize = parsed.GetValue(BatchSize) ?? d.BatchSize,
            LearningRate = parsed.GetValue(LearningRate) ?? d.LearningRate,
            Optimizer = parsed.GetValue(Optimizer)?.ToLowerInvariant() ?? d.Optimizer,
            Momentum = parsed.GetValue(Momentum) ?? d.Momentum,
            Nesterov = parsed.GetValue(Nesterov) ?? d.Nesterov,
            WeightDecay = parsed.GetValue(WeightDecay) ?? d.WeightDecay,
            NormBiasLrScale = parsed.GetValue(NormBiasLrScale) ?? d.NormBiasLrScale,
            LabelSmoothing = parsed.GetValue(LabelSmoothing) ?? d.LabelSmoothing,
            Schedule = parsed.GetValue(Schedule)?.ToLowerInvariant() ?? d.Schedule,
            StepEpochs = parsed.GetValue(StepSize),
            Milestones = parsed.GetValue(Milestones) ?? [],
            Gamma = parsed.GetValue(Gamma),
            WarmupEpochs = parsed.GetValue(Warmup),
            Lookahead = parsed.GetValue(Lookahead) ?? d.Lookahead,
            Dropout = parsed.GetValue(Dropout),
            Depth = parsed.GetValue(Depth),
            ValidationSize = parsed.GetValue(ValidationSize) ?? d.ValidationSize,
            RandomCrop = !parsed.GetValue(NoCrop),
            CropPadding = parsed.GetValue(CropPadding) ?? d.CropPadding,
            CropPadMode = parsed.GetValue(PadMode)?.ToLowerInvariant() ?? d.CropPadMode,
            HorizontalFlip = !parsed.GetValue(NoFlip),
            AlternatingFlip = !parsed.GetValue(NoFlip) && (parsed.GetValue(AlternatingFlip) ?? d.AlternatingFlip),
            Cutout = parsed.GetValue(Cutout),
            TrainSubset = parsed.GetValue(Subset),
            Seed = parsed.GetValue(Seed),
            Threads = parsed.GetValue(Threads),
            Device = parsed.GetValue(Device)!,
            EvalBatchSize = parsed.GetValue(EvalBatchSize),
            Precision = parsed.GetValue(Precision)!.ToLowerInvariant(),
            TestTta = parsed.GetValue(TestTta) ?? d.TestTta,
        };
    }
}
