// The toolkit's benchmarks; each prints CSV lines that the scripts in bench/ put beside the PyTorch peer's.
//
//   cifar10-bench [--models simple,resnet18] [--batch 128] [--threads 2] [--precision bf16]   training-step throughput (bench/run.sh)
//   cifar10-bench inference [--models fast,resnet18,simple] [--threads 2] [--onnx-dir DIR]  inference latency and throughput (bench/inference.sh)
//   cifar10-bench write-folder DATA OUT                                                       CIFAR-10 as an image folder of PNG files
//   cifar10-bench folder-load ROOT                                                            decoding an image folder, cold and cached (bench/image-folder.sh)
//   cifar10-bench tta CHECKPOINT --data PATH [--confidence 0.9,0.8] [--batch 500]              test-time augmentation policies, timed (bench/tta-policy.sh)
//   cifar10-bench accuracy-plot CSV PNG                                                      test accuracy against wall time, from series,minutes,accuracy lines (bench/time-to-accuracy.sh)
//   cifar10-bench make-checkpoint MODEL DIR                                                   an untrained checkpoint, for the server load benchmark (bench/serve-load.sh)
//
// The step benchmark's PyTorch peer is bench/pytorch/step_throughput.py (same layers, batch, optimizer and
// thread count); --precision bf16 applies to networks that compute in bfloat16 (every built-in one). It prints one CSV
// line per network: model,batch,threads,steps,seconds,images_per_s
using System.Diagnostics;
using System.Globalization;
using Cifar10.Bench;
using Cifar10.Models;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

// As the tool does at its start, so that a step here is the step `cifar10 train` takes.
Cifar10.Runtime.ProcessMemory.ConfigureForTraining();

switch (args.FirstOrDefault())
{
    case "inference": return Inference.Run(args[1..]);
    case "write-folder": return FolderLoading.Write(args[1], args[2]);
    case "folder-load": return FolderLoading.Measure(args[1]);
    case "make-checkpoint": return MakeCheckpoint(args[1], args[2]);
    case "tta": return TtaPolicy.Run(args[1..]);
    case "accuracy-plot": return AccuracyPlot(args[1], args[2]);
}

var options = Args.Parse(args);
torch.set_num_threads(options.Threads);
Console.WriteLine("model,batch,threads,steps,seconds,images_per_s,forward_ms,backward_ms,optimizer_ms");
foreach (var name in options.Models)
{
    // The network's recipe, resolved as `train` resolves it, with the optimizer the PyTorch peer uses
    // (bench/pytorch/step_throughput.py) given on top, and the batch in one pass as the peer takes it: both sides take
    // the same step.
    var info = ModelCatalog.Get(name);
    var config = TrainSettings.Resolve([
        new("model", name), new("seed", "0"), new("optimizer", "sgd"), new("lr", "0.01"), new("momentum", "0.9"),
        new("nesterov", "false"), new("weight-decay", "5e-4"), new("norm-bias-lr-scale", "1"), new("label-smoothing", "0"),
        new("micro-batch", "0"),
        .. info.HasDepth ? [new KeyValuePair<string, string>("depth", options.Depth.ToString(CultureInfo.InvariantCulture))] : Array.Empty<KeyValuePair<string, string>>(),
        .. info.SupportsBf16 ? [new KeyValuePair<string, string>("precision", options.Precision)] : Array.Empty<KeyValuePair<string, string>>(),
    ]);
    using var model = Trainer.CreateModel(config, classCount: 10);
    model.train();
    using var optimizer = OptimizerFactory.Create(config, model);
    var step = new TrainingStep(model, optimizer, config.LabelSmoothing, config.ClipGradNorm, config.MicroBatch);
    using var images = torch.randn(options.Batch, 3, 32, 32);
    using var labels = torch.randint(0, 10, [options.Batch], dtype: int64);

    for (int i = 0; i < options.Warmup; i++) Run(step, images, labels);
    Console.Error.WriteLine($"# {name} warm"); // bench/profile.sh starts sampling here
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < options.Steps; i++) Run(step, images, labels);
    double seconds = clock.Elapsed.TotalSeconds;
    // Then the same steps again, timed phase by phase.
    var times = new StepTimes();
    for (int i = 0; i < options.Steps; i++) Run(step, images, labels, times);
    double Milliseconds(Stopwatch phase) => phase.Elapsed.TotalMilliseconds / options.Steps;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name},{options.Batch},{options.Threads},{options.Steps},{seconds:F3},{options.Batch * options.Steps / seconds:F1}," +
        $"{Milliseconds(times.Forward):F1},{Milliseconds(times.Backward):F1},{Milliseconds(times.Update):F1}"));
}
return 0;

static void Run(TrainingStep step, Tensor images, Tensor labels, StepTimes? times = null)
{
    using var scope = torch.NewDisposeScope();
    var (loss, _) = step.Run(images, labels, 0.01, times);
    loss.item<float>(); // the same synchronisation point as the training loop
}

static int AccuracyPlot(string csv, string png)
{
    var runs = File.ReadLines(csv).Skip(1).Select(line => line.Split(','))
        .Select(f => (Series: f[0], Minutes: double.Parse(f[1], CultureInfo.InvariantCulture), Accuracy: double.Parse(f[2], CultureInfo.InvariantCulture)));
    Cifar10.Reporting.Plots.AccuracyVersusTime(png, runs.GroupBy(r => r.Series)
        .Select(g => (g.Key, (IReadOnlyList<(double, double)>)g.Select(r => (r.Minutes, r.Accuracy)).ToList())).ToList());
    return 0;
}

// Inference speed does not depend on what the weights learned: a freshly initialised network serves as well.
static int MakeCheckpoint(string model, string folder)
{
    var config = TrainSettings.Resolve([new("model", model), new("seed", "0")]);
    using var network = Trainer.CreateModel(config, classCount: 10);
    string[] classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
    Checkpoint.Save(folder, network, null, new CheckpointState { Model = model, ClassNames = classes, NumClasses = 10 });
    return 0;
}

sealed record Args(string[] Models, int Batch, int Threads, int Warmup, int Steps, int Depth, string Precision)
{
    public static Args Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--")) throw new ArgumentException($"unexpected argument '{args[i]}'");
            values[args[i][2..]] = args[i + 1];
        }
        string Get(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;
        return new Args(
            Get("models", "fast,simple,deep,wide,tutorial,vgg16,resnet18,resnet18-imagenet").Split(','),
            int.Parse(Get("batch", "128")),
            int.Parse(Get("threads", Environment.ProcessorCount.ToString())),
            int.Parse(Get("warmup", "3")),
            int.Parse(Get("steps", "10")),
            int.Parse(Get("depth", "3")),
            Get("precision", "fp32"));
    }
}
