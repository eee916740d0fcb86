using System.Text;
using System.Text.Json;
using Cifar10.Training;

namespace Cifar10.Distributed;

/// <summary>How the ranks prepare a run together: rank 0 alone does what touches the run folder, and every failure
/// during the preparation ends every rank alike (one error line, from rank 0) instead of leaving some waiting.</summary>
internal sealed partial class DataParallel
{
    enum Outcome : byte { Done, Usage, Interrupted, Failure }

    /// <summary>
    /// Runs <paramref name="work"/> on rank 0 alone and returns its result on every rank (a JSON round trip). When
    /// it fails, rank 0 throws the failure and the others a <see cref="ReportedByRankZeroException"/> of the same kind.
    /// </summary>
    public T OnMain<T>(Func<T> work)
    {
        if (Size == 1) return work();
        byte[]? message = null;
        T result = default!;
        Exception? failure = null;
        if (IsMain)
        {
            try
            {
                result = work();
                message = [(byte)Outcome.Done, .. JsonSerializer.SerializeToUtf8Bytes(result, JsonFiles.Compact)];
            }
            catch (Exception e)
            {
                failure = e;
                message = [(byte)KindOf(e), .. Encoding.UTF8.GetBytes(e.Message)];
            }
        }
        message = FromMain(message)!;
        if (failure is not null) throw Collective(failure);
        var outcome = (Outcome)message[0];
        if (outcome != Outcome.Done) throw Mirror(outcome, Encoding.UTF8.GetString(message, 1, message.Length - 1));
        return IsMain ? result : JsonSerializer.Deserialize<T>(message.AsSpan(1), JsonFiles.Compact)!;
    }

    /// <summary><see cref="OnMain{T}"/> for work without a result.</summary>
    public void OnMain(Action work) => OnMain(() => { work(); return true; });

    /// <summary>Runs <paramref name="work"/> on every rank with the same inputs (settings, data and network already
    /// checked alike), so that a failure is every rank's at once: it is marked as such.</summary>
    public void Alike(Action work)
    {
        try
        {
            work();
        }
        catch (Exception e)
        {
            throw Collective(e);
        }
    }

    /// <summary>
    /// Checks that every rank resolved the same settings and found the same data as rank 0 (a launch that gives the
    /// ranks different command lines, environments or files), apart from the machine's own (threads, device):
    /// otherwise every rank stops with a usage error that names the first rank and setting that differ.
    /// </summary>
    public void EnsureSameRun(TrainConfig config, string dataSha256)
    {
        if (Size == 1) return;
        var mainConfig = JsonSerializer.Deserialize<TrainConfig>(FromMain(JsonSerializer.SerializeToUtf8Bytes(config, JsonFiles.Compact))!, JsonFiles.Compact)!;
        var mainData = FromMain(dataSha256)!;
        var difference = TrainSettings.All
            .Where(s => !s.DescribesMachine && !s.SameValue(config, mainConfig))
            .Select(s => $"--{s.Name} {s.Format(config)} (rank 0: {s.Format(mainConfig)})")
            .Concat(dataSha256 == mainData ? [] : [$"data with SHA-256 {dataSha256[..12]}… (rank 0: {mainData[..12]}…)"])
            .FirstOrDefault();

        var differing = new long[Size]; // one flag per rank, summed: every rank learns which ranks differ
        if (difference is not null) differing[Rank] = 1;
        world.Sum(differing);
        int first = Array.IndexOf(differing, 1L);
        if (first < 0) return;
        var text = Encoding.UTF8.GetString(BroadcastFrom(first, difference is null ? [] : Encoding.UTF8.GetBytes(difference)));
        throw Collective(new ConfigException(
            $"rank {first} was started with other settings than rank 0: {text}; every rank must run the same command on the same data"));
    }

    /// <summary><paramref name="bytes"/> of rank <paramref name="root"/> on every rank.</summary>
    byte[] BroadcastFrom(int root, byte[] bytes)
    {
        Span<long> length = [Rank == root ? bytes.Length : 0];
        world.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(length), root);
        var received = Rank == root ? bytes : new byte[length[0]];
        world.Broadcast(received, root);
        return received;
    }

    static Outcome KindOf(Exception e) => e switch
    {
        ConfigException => Outcome.Usage,
        OperationCanceledException => Outcome.Interrupted,
        _ => Outcome.Failure,
    };

    /// <summary>What a rank other than 0 ends with when rank 0 failed: an exception of the kind that gives the same exit code.</summary>
    static ReportedByRankZeroException Mirror(Outcome outcome, string message) => new(outcome switch
    {
        Outcome.Usage => new ConfigException(message),
        Outcome.Interrupted => new OperationCanceledException(message),
        _ => new DistributedException(message),
    });
}
