namespace Cifar10.Distributed;

/// <summary>
/// The processes that train one run together (MPI's ranks), and the collective operations data-parallel
/// training is built from. Every rank calls the same operations in the same order; each returns once every
/// rank has called it.
/// </summary>
internal interface ICommunicator
{
    /// <summary>This process's number, 0 to <see cref="Size"/> − 1; rank 0 writes the run folder and prints.</summary>
    int Rank { get; }
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank by their element-wise sum over the ranks.</summary>
    void Sum(Span<float> values);
    void Sum(Span<double> values);
    void Sum(Span<long> values);

    /// <summary>Copies <paramref name="data"/> of rank <paramref name="root"/> into every other rank's (same length everywhere).</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Every rank's <paramref name="mine"/> (the same length on every rank), in rank order.</summary>
    byte[] Gather(ReadOnlySpan<byte> mine);
}

/// <summary>One process alone: every collective is the identity.</summary>
internal sealed class SingleProcessWorld : ICommunicator
{
    public static SingleProcessWorld Instance { get; } = new();

    public int Rank => 0;
    public int Size => 1;
    public void Sum(Span<float> values) { }
    public void Sum(Span<double> values) { }
    public void Sum(Span<long> values) { }
    public void Broadcast(Span<byte> data, int root) { }
    public byte[] Gather(ReadOnlySpan<byte> mine) => mine.ToArray();
}

/// <summary>MPI cannot do what was asked (a call failed, the ranks disagree): exit code 1.</summary>
public sealed class DistributedException(string message) : Exception(OneLine.Of(message));

/// <summary>
/// How a rank other than 0 ends when every rank fails the same way at the same moment (an agreed stop, a loss
/// that is no longer finite, settings that differ between ranks): rank 0 reports it, the others end with the
/// same exit code and say nothing, so the user reads the reason once.
/// </summary>
public sealed class ReportedByRankZeroException(Exception reason) : Exception(reason.Message, reason);
