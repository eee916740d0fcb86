namespace Cifar10.Training;

/// <summary>
/// The learning rate as a pure function of the global step, so that a resumed run lands on
/// exactly the rate it would have had, with no scheduler state to save.
/// Step-based decays (step, multistep) change at epoch boundaries, as PyTorch's StepLR and
/// MultiStepLR do when stepped once per epoch; cosine and one-cycle move every step.
/// </summary>
public sealed class LearningRateSchedule
{
    readonly TrainConfig config;
    readonly long stepsPerEpoch;
    readonly long totalSteps;
    readonly long warmupSteps;

    /// <summary>The schedule of <paramref name="config"/> (its schedule, peak rate, warm-up and epochs) over epochs of <paramref name="stepsPerEpoch"/> steps.</summary>
    /// <param name="config">The settings.</param>
    /// <param name="stepsPerEpoch">Optimizer steps per epoch (<see cref="Trainer.StepsPerEpoch"/>), at least 1.</param>
    public LearningRateSchedule(TrainConfig config, long stepsPerEpoch)
    {
        if (stepsPerEpoch <= 0) throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), "an epoch needs at least one step");
        this.config = config;
        this.stepsPerEpoch = stepsPerEpoch;
        totalSteps = stepsPerEpoch * config.Epochs;
        warmupSteps = (long)Math.Round(config.WarmupEpochs * stepsPerEpoch);
    }

    /// <summary>The steps of the whole run: the last step the schedule plans for is <c>TotalSteps - 1</c>.</summary>
    public long TotalSteps => totalSteps;

    /// <summary>Learning rate for the update at <paramref name="step"/> (0-based over the whole run).</summary>
    public double At(long step)
    {
        double baseRate = config.LearningRate;
        double progress = totalSteps <= 1 ? 0 : (double)step / (totalSteps - 1);
        long epoch = step / stepsPerEpoch;
        double rate = config.Schedule switch
        {
            ScheduleKind.Constant => baseRate,
            ScheduleKind.Step => baseRate * Math.Pow(config.Gamma, epoch / config.StepEpochs),
            ScheduleKind.Multistep => baseRate * Math.Pow(config.Gamma, config.Milestones.Count(m => epoch >= m)),
            ScheduleKind.Cosine => baseRate * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            ScheduleKind.OneCycle => OneCycle(baseRate, progress),
            ScheduleKind.Triangle => baseRate * Triangle(step, totalSteps),
            ScheduleKind.Linear => baseRate * (1 - (double)step / totalSteps),
            _ => throw new ArgumentOutOfRangeException(nameof(config), config.Schedule, "unknown schedule"),
        };
        if (warmupSteps > 0 && step < warmupSteps)
            rate *= (step + 1) / (double)warmupSteps;
        return rate;
    }

    /// <summary>PyTorch OneCycleLR's defaults: start at max/25, rise over the first 30% (cosine),
    /// then anneal (cosine) to max/25/1e4.</summary>
    static double OneCycle(double maxRate, double progress)
    {
        const double peakAt = 0.3;
        double initial = maxRate / 25;
        double final = initial / 1e4;
        if (progress <= peakAt)
            return Cosine(initial, maxRate, progress / peakAt);
        return Cosine(maxRate, final, (progress - peakAt) / (1 - peakAt));
    }

    /// <summary>airbench94's triangle: linear from 0.2 at step 0 up to 1 at 23% of the steps, then
    /// linear down to 0.07 at the last step.</summary>
    static double Triangle(long step, long totalSteps)
    {
        const double start = 0.2, end = 0.07, peakAt = 0.23;
        long peak = (long)(peakAt * totalSteps);
        if (step <= peak)
            return peak == 0 ? 1 : start + (1 - start) * step / peak;
        return 1 + (end - 1) * (step - peak) / (double)(totalSteps - peak);
    }

    static double Cosine(double from, double to, double fraction) =>
        to + (from - to) * 0.5 * (1 + Math.Cos(Math.PI * fraction));
}
