using System.CommandLine;
using Cifar10.Prediction;
using Cifar10.Runs;
using Cifar10.Serving;

namespace Cifar10.Cli.Commands;

/// <summary>`serve`: a checkpoint or an exported ONNX model behind an HTTP API and a web page.</summary>
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
        var host = new Option<string>("--host") { Description = "Address to listen on (0.0.0.0 for every interface)", DefaultValueFactory = _ => defaults.Host };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most images in one forward pass", DefaultValueFactory = _ => defaults.MaxBatch };
        var maxWait = new Option<int>("--max-wait-ms") { Description = "How long a request waits for others to share its forward pass", DefaultValueFactory = _ => (int)defaults.MaxWait.TotalMilliseconds };
        var top = new Option<int>("--top", "-k") { Description = "Classes per image (a request may ask for fewer with ?top=N)", DefaultValueFactory = _ => defaults.Top };
        var threads = CommonOptions.Threads();
        var command = new Command("serve", "Serve a trained network: POST /predict (JSON), GET / (web page), GET /healthz, /openapi/v1.json")
        {
            checkpoint, port, host, maxBatch, maxWait, top, threads,
        };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(port) is < 0 or > 65535) throw new ConfigException($"--port must be in 0..65535 (got {parsed.GetValue(port)})");
            if (parsed.GetValue(maxBatch) < 1) throw new ConfigException("--max-batch must be at least 1");
            if (parsed.GetValue(maxWait) < 0) throw new ConfigException("--max-wait-ms must not be negative");
            using var session = Session.Open(new SessionOptions { Threads = parsed.GetValue(threads) }, console.Interrupt);
            var model = parsed.GetRequiredValue(checkpoint);
            using IImageClassifier classifier = model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)
                ? new OnnxClassifier(model, parsed.GetValue(threads))
                : session.Classifier(model);
            var options = new ServerOptions
            {
                Host = parsed.GetValue(host)!, Port = parsed.GetValue(port), MaxBatch = parsed.GetValue(maxBatch),
                MaxWait = TimeSpan.FromMilliseconds(parsed.GetValue(maxWait)), Top = parsed.GetValue(top), ModelName = Path.GetFullPath(model),
            };
            var app = PredictionServer.Build(classifier, options);
            app.StartAsync().GetAwaiter().GetResult();
            console.Out.WriteLine($"serving {model} ({classifier.ClassNames.Count} classes) on {string.Join(", ", app.Urls)} — Ctrl-C stops after the requests in flight");
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
}
