using System.Diagnostics;
using System.Globalization;
using Cifar10.Data;
using Cifar10.Export;
using Cifar10.Models;
using Cifar10.Prediction;
using Cifar10.Serving;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Bench;

/// <summary>
/// Inference of a network on TorchSharp and, exported, on ONNX Runtime: latency at batch 1 (p50 and p99
/// of many single-image calls) and throughput at batch 256, both from uint8 images to probabilities,
/// normalisation included. The PyTorch peer is bench/pytorch/inference.py; bench/inference.sh runs both.
/// Prints CSV: runtime,model,batch,threads,calls,p50_ms,p99_ms,images_per_s
/// </summary>
static class Inference
{
    public static int Run(string[] args)
    {
        var models = Value(args, "models", "fast,resnet18,simple").Split(',');
        int threads = int.Parse(Value(args, "threads", Environment.ProcessorCount.ToString()), CultureInfo.InvariantCulture);
        var onnxDir = Value(args, "onnx-dir", Path.Combine(Path.GetTempPath(), "cifar10-bench-onnx"));
        Directory.CreateDirectory(onnxDir);
        torch.set_num_threads(threads);
        Console.WriteLine("runtime,model,batch,threads,calls,p50_ms,p99_ms,images_per_s");
        foreach (var name in models)
        {
            var config = TrainSettings.Resolve([new("model", name), new("seed", "0")]);
            using var model = Trainer.CreateModel(config, classCount: 10);
            model.eval();
            var normalization = Normalization.Cifar10;
            var onnx = Path.Combine(onnxDir, $"{name}.onnx");
            ModelExport.SaveOnnx(model, new CheckpointState { Model = name, NumClasses = 10, ClassNames = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")] }, onnx);

            float[] Torch(byte[] images, int count)
            {
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var batch = torch.tensor(images, dtype: uint8).reshape(count, 3, 32, 32);
                return model.forward(normalization.Normalize(batch)).softmax(1).data<float>().ToArray();
            }
            using var ort = new OnnxClassifier(onnx, threads);
            Measure("torchsharp", name, threads, Torch);
            Measure("onnxruntime", name, threads, (images, count) => ort.Probabilities(images, count));
        }
        return 0;
    }

    static void Measure(string runtime, string model, int threads, Func<byte[], int, float[]> classify)
    {
        var random = new Random(0);
        var one = new byte[3072];
        random.NextBytes(one);
        for (int i = 0; i < 20; i++) classify(one, 1);
        var latencies = new List<double>();
        var total = Stopwatch.StartNew();
        while (latencies.Count < 2000 && total.Elapsed < TimeSpan.FromSeconds(15))
        {
            var clock = Stopwatch.StartNew();
            classify(one, 1);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }
        latencies.Sort();
        Print(runtime, model, 1, threads, latencies.Count, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)],
              latencies.Count / latencies.Sum() * 1000);

        var batch = new byte[256 * 3072];
        random.NextBytes(batch);
        classify(batch, 256);
        int calls = 0;
        total.Restart();
        while (calls < 3 || total.Elapsed < TimeSpan.FromSeconds(10))
        {
            classify(batch, 256);
            calls++;
        }
        Print(runtime, model, 256, threads, calls, double.NaN, double.NaN, calls * 256 / total.Elapsed.TotalSeconds);
    }

    static void Print(string runtime, string model, int batch, int threads, int calls, double p50, double p99, double rate) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{runtime},{model},{batch},{threads},{calls},{p50:F3},{p99:F3},{rate:F1}"));

    internal static string Value(string[] args, string key, string fallback)
    {
        int i = Array.IndexOf(args, "--" + key);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
