using System.CommandLine;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>The hyperparameter options shared by `train`, `sweep` and `lr-find`, and the
/// <see cref="TrainConfig"/> they describe.</summary>
public sealed class TrainOptions
{
    static readonly TrainConfig defaults = new();

    public readonly Option<string> Model = new("--model", "-m") { Description = "Network (see `models`)", DefaultValueFactory = _ => defaults.Model };
    public readonly Option<int> Epochs = new("--epochs", "-e") { Description = "Passes over the training set", DefaultValueFactory = _ => defaults.Epochs };
    public readonly Option<int> BatchSize = new("--batch-size", "-b") { Description = "Images per optimizer step", DefaultValueFactory = _ => defaults.BatchSize };
    public readonly Option<double> LearningRate = new("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => defaults.LearningRate };
    public readonly Option<string> Optimizer = new("--optimizer") { Description = "sgd, adam or adamw", DefaultValueFactory = _ => defaults.Optimizer };
    public readonly Option<double> Momentum = new("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => defaults.Momentum };
    public readonly Option<bool> Nesterov = new("--nesterov") { Description = "Nesterov momentum (sgd)" };
    public readonly Option<double> WeightDecay = new("--weight-decay", "--wd") { Description = "L2 weight decay", DefaultValueFactory = _ => defaults.WeightDecay };
    public readonly Option<double> LabelSmoothing = new("--label-smoothing") { Description = "Cross-entropy label smoothing", DefaultValueFactory = _ => defaults.LabelSmoothing };
    public readonly Option<string> Schedule = new("--schedule") { Description = "constant, step, multistep, cosine or onecycle", DefaultValueFactory = _ => defaults.Schedule };
    public readonly Option<int> StepSize = new("--step-size") { Description = "step schedule: epochs between decays", DefaultValueFactory = _ => defaults.StepEpochs };
    public readonly Option<int[]> Milestones = new("--milestones") { Description = "multistep schedule: epochs at which to decay, e.g. --milestones 30 60", AllowMultipleArgumentsPerToken = true };
    public readonly Option<double> Gamma = new("--gamma") { Description = "Decay factor of step and multistep", DefaultValueFactory = _ => defaults.Gamma };
    public readonly Option<double> Warmup = new("--warmup") { Description = "Linear warm-up, in epochs", DefaultValueFactory = _ => defaults.WarmupEpochs };
    public readonly Option<double?> Dropout = new("--dropout") { Description = "Dropout probability (networks with dropout)" };
    public readonly Option<int> Depth = new("--depth") { Description = "Conv blocks of the tutorial network (2..4)", DefaultValueFactory = _ => defaults.Depth };
    public readonly Option<int> ValidationSize = new("--val-size") { Description = "Images held out of training for validation (0 = none)", DefaultValueFactory = _ => defaults.ValidationSize };
    public readonly Option<bool> NoCrop = new("--no-crop") { Description = "Disable random crop (padding 4)" };
    public readonly Option<bool> NoFlip = new("--no-flip") { Description = "Disable random horizontal flip" };
    public readonly Option<int> Cutout = new("--cutout") { Description = "Cutout square size in pixels (0 = off)", DefaultValueFactory = _ => defaults.Cutout };
    public readonly Option<int> Subset = new("--subset") { Description = "Train on only the first N training images (0 = all)", DefaultValueFactory = _ => 0 };
    public readonly Option<long> Seed = new("--seed") { Description = "Seed of every random choice; same seed, same machine, same run", DefaultValueFactory = _ => defaults.Seed };
    public readonly Option<int> EvalBatchSize = new("--eval-batch-size") { Description = "Batch size for validation and test", DefaultValueFactory = _ => defaults.EvalBatchSize };
    public readonly Option<int> Threads = CommonOptions.Threads();
    public readonly Option<string> Device = CommonOptions.Device();

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Epochs);
        command.Options.Add(BatchSize);
        command.Options.Add(LearningRate);
        command.Options.Add(Optimizer);
        command.Options.Add(Momentum);
        command.Options.Add(Nesterov);
        command.Options.Add(WeightDecay);
        command.Options.Add(LabelSmoothing);
        command.Options.Add(Schedule);
        command.Options.Add(StepSize);
        command.Options.Add(Milestones);
        command.Options.Add(Gamma);
        command.Options.Add(Warmup);
        command.Options.Add(Dropout);
        command.Options.Add(Depth);
        command.Options.Add(ValidationSize);
        command.Options.Add(NoCrop);
        command.Options.Add(NoFlip);
        command.Options.Add(Cutout);
        command.Options.Add(Subset);
        command.Options.Add(Seed);
        command.Options.Add(EvalBatchSize);
        command.Options.Add(Threads);
        command.Options.Add(Device);
    }

    public TrainConfig ToConfig(ParseResult parsed)
    {
        return new TrainConfig
        {
            Model = parsed.GetValue(Model)!.ToLowerInvariant(),
            Epochs = parsed.GetValue(Epochs),
            BatchSize = parsed.GetValue(BatchSize),
            LearningRate = parsed.GetValue(LearningRate),
            Optimizer = parsed.GetValue(Optimizer)!.ToLowerInvariant(),
            Momentum = parsed.GetValue(Momentum),
            Nesterov = parsed.GetValue(Nesterov),
            WeightDecay = parsed.GetValue(WeightDecay),
            LabelSmoothing = parsed.GetValue(LabelSmoothing),
            Schedule = parsed.GetValue(Schedule)!.ToLowerInvariant(),
            StepEpochs = parsed.GetValue(StepSize),
            Milestones = parsed.GetValue(Milestones) ?? [],
            Gamma = parsed.GetValue(Gamma),
            WarmupEpochs = parsed.GetValue(Warmup),
            Dropout = parsed.GetValue(Dropout),
            Depth = parsed.GetValue(Depth),
            ValidationSize = parsed.GetValue(ValidationSize),
            RandomCrop = !parsed.GetValue(NoCrop),
            HorizontalFlip = !parsed.GetValue(NoFlip),
            Cutout = parsed.GetValue(Cutout),
            TrainSubset = parsed.GetValue(Subset),
            Seed = parsed.GetValue(Seed),
            Threads = parsed.GetValue(Threads),
            Device = parsed.GetValue(Device)!,
            EvalBatchSize = parsed.GetValue(EvalBatchSize),
        };
    }
}
