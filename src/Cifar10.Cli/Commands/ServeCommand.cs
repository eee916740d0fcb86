using System.CommandLine;
using Cifar10.Prediction;
using Cifar10.Runs;
using Cifar10.Serving;
using Cifar10.Training;

namespace Cifar10.Cli.Commands;

/// <summary>`serve`: a checkpoint or an exported ONNX model behind an HTTP API and a web page (docs/serving.md).</summary>
public static class ServeCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = new Option<string>("--checkpoint", "-c")
        {
            Description = "A run folder or checkpoint folder (served on TorchSharp), or an exported FILE.onnx (served on ONNX Runtime)",
            Required = true,
        };
        var defaults = new ServerOptions();
        var port = new Option<int>("--port", "-p") { Description = "TCP port", DefaultValueFactory = _ => defaults.Port };
        var host = new Option<string>("--host")
        {
            Description = "Address to listen on (0.0.0.0 for every interface), or a host name: its addresses, and only those",
            DefaultValueFactory = _ => defaults.Host,
        };
        var maxBatch = new Option<int>("--max-batch") { Description = $"Most images in one forward pass (1..{ServerOptions.MaxBatchLimit})", DefaultValueFactory = _ => defaults.MaxBatch };
        var maxWait = new Option<int>("--max-wait-ms")
        {
            Description = $"How long a request waits for others to share its forward pass (0..{ServerOptions.MaxWaitLimit.TotalMilliseconds:0})",
            DefaultValueFactory = _ => (int)defaults.MaxWait.TotalMilliseconds,
        };
        var top = new Option<int>("--top", "-k") { Description = "Classes per image (a request may ask for another number with ?top=N)", DefaultValueFactory = _ => defaults.Top };
        var decodeMemory = new Option<int>("--decode-memory-mib")
        {
            Description = "Memory for decoding images, all requests together: an image waits for its share; one that needs more is refused (413)",
            DefaultValueFactory = _ => (int)(defaults.DecodingBytes >> 20),
        };
        var threads = CommonOptions.Threads();
        var command = new Command("serve", "Serve a trained network: POST /predict (JSON), GET / (web page), GET /healthz, /openapi/v1.json")
        {
            checkpoint, port, host, maxBatch, maxWait, top, decodeMemory, threads,
        };
        command.SetAction(parsed =>
        {
            var options = new ServerOptions
            {
                Host = parsed.GetValue(host)!, Port = parsed.GetValue(port), MaxBatch = parsed.GetValue(maxBatch),
                MaxWait = TimeSpan.FromMilliseconds(parsed.GetValue(maxWait)), Top = parsed.GetValue(top),
                DecodingBytes = (long)parsed.GetValue(decodeMemory) << 20,
            };
            options.Validate(); // usage errors before the network is loaded
            using var session = Session.Open(new SessionOptions { Threads = parsed.GetValue(threads) }, console.Interrupt);
            var model = parsed.GetRequiredValue(checkpoint);
            var (classifier, served) = Load(session, model, parsed.GetValue(threads));
            using var _ = classifier;
            var app = PredictionServer.Build(classifier, options with { Served = served });
            PredictionServer.Start(app, options);
            var accuracy = served.TestAccuracy is { } a ? $", test accuracy {a:P2}{(served.TestTta ? " with TTA" : "")}" : "";
            console.Out.WriteLine($"serving {served.Network} from {model} ({classifier.ClassNames.Count} classes{accuracy}) on {string.Join(", ", app.Urls)}" +
                                  " — Ctrl-C stops after the requests in flight");
            // Ctrl-C or SIGTERM: stop accepting, answer what is in flight, then exit.
            try
            {
                Task.Delay(Timeout.Infinite, console.Interrupt).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // the signal: drain below
            }
            app.StopAsync().GetAwaiter().GetResult();
            console.Out.WriteLine("stopped");
            return Program.Success;
        });
        return command;
    }

    static (IImageClassifier, ServedModel) Load(Session session, string model, int threads)
    {
        if (model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            var onnx = new OnnxClassifier(model, threads);
            return (onnx, ServedModel.Of(model, onnx.Network));
        }
        var classifier = session.Classifier(model);
        return (classifier, ServedModel.Of(model, Checkpoint.ReadState(Checkpoint.Locate(model)).Model));
    }
}
