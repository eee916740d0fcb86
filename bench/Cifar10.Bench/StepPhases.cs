using System.Diagnostics;
using System.Globalization;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Bench;

/// <summary>TrainingStep's work split into its three phases, each timed: forward and loss, backward, optimizer update.</summary>
sealed class StepPhases(nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer, double labelSmoothing)
{
    readonly Stopwatch forward = new(), backward = new(), update = new();

    public void Run(Tensor images, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        forward.Start();
        var loss = nn.functional.cross_entropy(model.forward(images), labels, label_smoothing: labelSmoothing);
        forward.Stop();
        backward.Start();
        model.zero_grad();
        loss.backward();
        backward.Stop();
        update.Start();
        optimizer.Step();
        update.Stop();
        loss.item<float>();
    }

    public string Milliseconds(int steps) => string.Create(CultureInfo.InvariantCulture,
        $"{forward.Elapsed.TotalMilliseconds / steps:F1},{backward.Elapsed.TotalMilliseconds / steps:F1},{update.Elapsed.TotalMilliseconds / steps:F1}");
}
