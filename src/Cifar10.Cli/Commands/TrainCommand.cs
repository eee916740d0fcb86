using System.CommandLine;
using Cifar10.Data;
using Cifar10.Training;
using Spectre.Console;

namespace Cifar10.Cli.Commands;

/// <summary>`train`: every hyperparameter of <see cref="TrainConfig"/> as an option.</summary>
public static class TrainCommand
{
    public static Command Build(CliConsole console)
    {
        var defaults = new TrainConfig();
        var model = new Option<string>("--model", "-m") { Description = "Network (see `models`)", DefaultValueFactory = _ => defaults.Model };
        var epochs = new Option<int>("--epochs", "-e") { Description = "Passes over the training set", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Images per optimizer step", DefaultValueFactory = _ => defaults.BatchSize };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => defaults.LearningRate };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam or adamw", DefaultValueFactory = _ => defaults.Optimizer };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => defaults.Momentum };
        var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum (sgd)" };
        var weightDecay = new Option<double>("--weight-decay", "--wd") { Description = "L2 weight decay", DefaultValueFactory = _ => defaults.WeightDecay };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "Cross-entropy label smoothing", DefaultValueFactory = _ => defaults.LabelSmoothing };
        var schedule = new Option<string>("--schedule") { Description = "constant, step, multistep, cosine or onecycle", DefaultValueFactory = _ => defaults.Schedule };
        var stepSize = new Option<int>("--step-size") { Description = "step schedule: epochs between decays", DefaultValueFactory = _ => defaults.StepEpochs };
        var milestones = new Option<int[]>("--milestones") { Description = "multistep schedule: epochs at which to decay, e.g. --milestones 30 60", AllowMultipleArgumentsPerToken = true };
        var gamma = new Option<double>("--gamma") { Description = "Decay factor of step and multistep", DefaultValueFactory = _ => defaults.Gamma };
        var warmup = new Option<double>("--warmup") { Description = "Linear warm-up, in epochs", DefaultValueFactory = _ => defaults.WarmupEpochs };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout probability (networks with dropout)" };
        var depth = new Option<int>("--depth") { Description = "Conv blocks of the tutorial network (2..4)", DefaultValueFactory = _ => defaults.Depth };
        var validationSize = new Option<int>("--val-size") { Description = "Images held out of training for validation (0 = none)", DefaultValueFactory = _ => defaults.ValidationSize };
        var noCrop = new Option<bool>("--no-crop") { Description = "Disable random crop (padding 4)" };
        var noFlip = new Option<bool>("--no-flip") { Description = "Disable random horizontal flip" };
        var cutout = new Option<int>("--cutout") { Description = "Cutout square size in pixels (0 = off)", DefaultValueFactory = _ => defaults.Cutout };
        var subset = new Option<int>("--subset") { Description = "Train on only the first N training images (0 = all)", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "Seed of every random choice; same seed, same machine, same run", DefaultValueFactory = _ => defaults.Seed };
        var evalBatchSize = new Option<int>("--eval-batch-size") { Description = "Batch size for validation and test", DefaultValueFactory = _ => defaults.EvalBatchSize };
        var threads = CommonOptions.Threads();
        var device = CommonOptions.Device();
        var data = CommonOptions.Data();
        var output = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/MODEL-TIMESTAMP)" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing run folder" };
        var resume = new Option<string?>("--resume") { Description = "Continue the interrupted run in this folder (its config.json is used)" };

        var command = new Command("train", "Train a network on CIFAR-10; writes config, metrics, TensorBoard logs and checkpoints to the run folder")
        {
            model, epochs, batchSize, learningRate, optimizer, momentum, nesterov, weightDecay, labelSmoothing,
            schedule, stepSize, milestones, gamma, warmup, dropout, depth, validationSize, noCrop, noFlip, cutout,
            subset, seed, evalBatchSize, threads, device, data, output, force, resume,
        };
        command.SetAction(parsed =>
        {
            var config = new TrainConfig
            {
                Model = parsed.GetValue(model)!.ToLowerInvariant(),
                Epochs = parsed.GetValue(epochs),
                BatchSize = parsed.GetValue(batchSize),
                LearningRate = parsed.GetValue(learningRate),
                Optimizer = parsed.GetValue(optimizer)!.ToLowerInvariant(),
                Momentum = parsed.GetValue(momentum),
                Nesterov = parsed.GetValue(nesterov),
                WeightDecay = parsed.GetValue(weightDecay),
                LabelSmoothing = parsed.GetValue(labelSmoothing),
                Schedule = parsed.GetValue(schedule)!.ToLowerInvariant(),
                StepEpochs = parsed.GetValue(stepSize),
                Milestones = parsed.GetValue(milestones) ?? [],
                Gamma = parsed.GetValue(gamma),
                WarmupEpochs = parsed.GetValue(warmup),
                Dropout = parsed.GetValue(dropout),
                Depth = parsed.GetValue(depth),
                ValidationSize = parsed.GetValue(validationSize),
                RandomCrop = !parsed.GetValue(noCrop),
                HorizontalFlip = !parsed.GetValue(noFlip),
                Cutout = parsed.GetValue(cutout),
                TrainSubset = parsed.GetValue(subset),
                Seed = parsed.GetValue(seed),
                Threads = parsed.GetValue(threads),
                Device = parsed.GetValue(device)!,
                EvalBatchSize = parsed.GetValue(evalBatchSize),
            };
            var request = new TrainRequest
            {
                Config = config,
                Data = parsed.GetValue(data),
                Download = DownloadCommand.Options(console),
                Out = parsed.GetValue(output) ?? (parsed.GetValue(resume) is null ? RunFolder.DefaultPath(config.Model) : null),
                Force = parsed.GetValue(force),
                Resume = parsed.GetValue(resume),
                CommandLine = Environment.CommandLine,
            };
            return Train(console, request);
        });
        return command;
    }

    static int Train(CliConsole console, TrainRequest request)
    {
        using var interrupt = new CancellationTokenSource();
        // First Ctrl-C stops after the current step (the last checkpoint stays whole); a second one kills.
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (interrupt.IsCancellationRequested) return;
            e.Cancel = true;
            interrupt.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            TrainSummary summary;
            if (console.Interactive)
            {
                summary = AnsiConsole.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                             new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(context => TrainingRun.Execute(request, new ProgressBarObserver(context), interrupt.Token));
            }
            else
            {
                summary = TrainingRun.Execute(request, new PlainTextObserver(console.Out), interrupt.Token);
            }
            var r = summary.Results;
            console.Out.WriteLine($"test accuracy {r.TestAccuracy:P2} (checkpoint '{r.TestCheckpoint}'"
                                  + (double.IsNaN(r.BestValAccuracy) ? ")" : $", best val {r.BestValAccuracy:P2} at epoch {r.BestEpoch})")
                                  + $"; {r.TotalSeconds:F0}s; results in {summary.RunFolder}");
            return Program.Success;
        }
        catch (OperationCanceledException)
        {
            var folder = request.Resume ?? request.Out ?? "the run folder";
            console.Error.WriteLine($"interrupted; the last completed epoch is checkpointed. Continue with: cifar10 train --resume {folder}");
            return Program.Interrupted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
