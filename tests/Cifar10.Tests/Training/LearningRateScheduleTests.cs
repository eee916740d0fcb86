using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Training;

public class LearningRateScheduleTests
{
    static LearningRateSchedule Schedule(string name, int epochs = 10, int steps = 10, double warmup = 0,
                                         int[]? milestones = null, int stepEpochs = 3) =>
        new(new TrainConfig { Schedule = Enum.Parse<ScheduleKind>(name, ignoreCase: true), Epochs = epochs, LearningRate = 0.1, WarmupEpochs = warmup,
                              Milestones = milestones ?? [], StepEpochs = stepEpochs, Gamma = 0.1 }, steps);

    [Fact]
    public void ConstantStaysAtTheBaseRate()
    {
        var s = Schedule("constant");
        Assert.All(Enumerable.Range(0, 100), step => Assert.Equal(0.1, s.At(step), 12));
    }

    [Fact]
    public void StepDecaysByGammaEveryStepEpochs()
    {
        var s = Schedule("step", stepEpochs: 3);
        Assert.Equal(0.1, s.At(29), 12);     // epoch 2
        Assert.Equal(0.01, s.At(30), 12);    // epoch 3
        Assert.Equal(0.001, s.At(60), 12);   // epoch 6
    }

    [Fact]
    public void MultistepDecaysAtEachMilestone()
    {
        var s = Schedule("multistep", milestones: [2, 5]);
        Assert.Equal(0.1, s.At(19), 12);
        Assert.Equal(0.01, s.At(20), 12);
        Assert.Equal(0.01, s.At(49), 12);
        Assert.Equal(0.001, s.At(50), 12);
    }

    [Fact]
    public void CosineStartsAtBaseEndsAtZeroAndHalvesAtTheMiddle()
    {
        var s = Schedule("cosine", epochs: 1, steps: 101);
        Assert.Equal(0.1, s.At(0), 12);
        Assert.Equal(0.05, s.At(50), 12);
        Assert.Equal(0.0, s.At(100), 12);
        for (int i = 1; i <= 100; i++) Assert.True(s.At(i) <= s.At(i - 1));
    }

    [Fact]
    public void OneCycleRisesToThePeakAtThirtyPercentThenAnneals()
    {
        var s = Schedule("onecycle", epochs: 1, steps: 101);
        Assert.Equal(0.1 / 25, s.At(0), 12);
        Assert.Equal(0.1, s.At(30), 12);
        Assert.Equal(0.1 / 25 / 1e4, s.At(100), 12);
        for (int i = 1; i <= 30; i++) Assert.True(s.At(i) > s.At(i - 1));
        for (int i = 31; i <= 100; i++) Assert.True(s.At(i) < s.At(i - 1));
    }

    [Fact]
    public void WarmupRampsLinearlyThenHandsOverToTheSchedule()
    {
        var s = Schedule("constant", warmup: 1, steps: 10);
        Assert.Equal(0.01, s.At(0), 12);
        Assert.Equal(0.05, s.At(4), 12);
        Assert.Equal(0.1, s.At(9), 12);
        Assert.Equal(0.1, s.At(10), 12);
    }

    [Fact]
    public void ScheduleIsAPureFunctionOfTheStep()
    {
        var a = Schedule("onecycle");
        var b = Schedule("onecycle");
        Assert.Equal(a.At(37), b.At(37));
        Assert.Equal(a.At(37), a.At(37));
    }
}
