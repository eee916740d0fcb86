namespace Cifar10.Tests;

/// <summary>Every progress report, in order, on the reporting thread (Progress&lt;T&gt; would post them to the thread pool).</summary>
public sealed class ProgressRecorder : IProgress<WorkProgress>
{
    public List<WorkProgress> Reports { get; } = [];

    public void Report(WorkProgress value) => Reports.Add(value);
}
