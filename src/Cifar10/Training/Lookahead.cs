using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Training;

/// <summary>
/// airbench94's weight averaging ("lookahead"): an exponential moving average of every floating-point
/// entry of the state dict (weights and batch-norm statistics) that is copied back into the network
/// each time it is updated, so the network itself moves with the average. The average's decay
/// starts near 0 and rises with the cube of training progress: fast early, strong averaging late.
/// </summary>
/// <remarks>
/// After each epoch the average is copied into the network once more, so at every epoch boundary
/// network and average are equal: a run resumed from a checkpoint rebuilds the average from the
/// weights (<see cref="IsActiveAfter"/> says whether one existed) and continues exactly.
/// </remarks>
internal sealed class Lookahead : IDisposable
{
    /// <summary>Averaging starts after this fraction of the epochs (airbench: epoch 3 of 10).</summary>
    public const double StartFraction = 0.3;
    /// <summary>The average is updated every this many optimizer steps.</summary>
    public const int Every = 5;
    const double DecayBase = 0.95;
    const double DecayPower = 3;

    readonly List<(Tensor Average, Tensor Live)> pairs = [];

    public Lookahead(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var (_, live) in model.state_dict())
            if (live.is_floating_point())
                pairs.Add((live.detach().clone().DetachFromDisposeScope(), live));
    }

    /// <summary>The first 0-based epoch index in which averaging runs.</summary>
    public static int StartEpochIndex(int epochs) => (int)Math.Round(StartFraction * epochs);

    /// <summary>Whether the average is updated after the optimizer step that ends with
    /// <paramref name="stepsDone"/> steps in all, taken in 0-based epoch <paramref name="epochIndex"/>.</summary>
    public static bool UpdatesAt(long stepsDone, int epochIndex, int epochs) =>
        epochIndex >= StartEpochIndex(epochs) && stepsDone % Every == 0;

    /// <summary>Whether an average exists once <paramref name="epochsDone"/> epochs of
    /// <paramref name="stepsPerEpoch"/> steps have run (it is created at its first update step).</summary>
    public static bool IsActiveAfter(int epochsDone, long stepsPerEpoch, int epochs)
    {
        for (int epoch = StartEpochIndex(epochs); epoch < epochsDone; epoch++)
            for (long step = epoch * stepsPerEpoch + 1; step <= (epoch + 1) * stepsPerEpoch; step++)
                if (step % Every == 0) return true;
        return false;
    }

    /// <summary>The decay used at <paramref name="stepsDone"/> of <paramref name="totalSteps"/>:
    /// 0.95^5 · (progress)^3, as airbench.</summary>
    public static double DecayAt(long stepsDone, long totalSteps) =>
        Math.Pow(DecayBase, Every) * Math.Pow(stepsDone / (double)totalSteps, DecayPower);

    /// <summary>average ← decay·average + (1 − decay)·weights, then weights ← average.
    /// Decay 1 only copies the average back.</summary>
    public void Update(double decay)
    {
        // In-place ops still hand back a new managed handle; the scope frees those whether or not the caller has one.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (average, live) in pairs)
        {
            average.lerp_(live, 1 - decay);
            live.copy_(average);
        }
    }

    public void Dispose()
    {
        foreach (var (average, _) in pairs) average.Dispose();
        pairs.Clear();
    }
}
