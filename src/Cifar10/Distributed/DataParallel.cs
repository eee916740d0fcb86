using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Cifar10.Data;
using Cifar10.Evaluation;
using Cifar10.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Distributed;

/// <summary>
/// What data-parallel training adds to the trainer, in one place: with one process every operation is the
/// identity (<see cref="SingleProcess"/>), so single-process training is unchanged to the bit. With several:
/// <list type="bullet">
/// <item>every rank draws the same seeded global batch and takes its own contiguous share (<see cref="ShareOf"/>);</item>
/// <item>the gradients are averaged, weighted by the shares, so every rank applies the update of the whole batch
/// (<see cref="Gradients"/>) and the weights stay identical, which <see cref="EndEpoch"/> checks;</item>
/// <item>each step's loss and accuracy are summed over the ranks, and with them whether any rank was asked to
/// stop, so that every rank stops after the same step (<see cref="Follow"/>, <see cref="AgreeOnStep"/>);</item>
/// <item>the network starts as rank 0's (its data-dependent initialisation computed there once), batch-norm
/// statistics are rank 0's after every epoch, and evaluation is sharded and summed.</item>
/// </list>
/// </summary>
internal sealed partial class DataParallel
{
    /// <summary>Training in this process alone.</summary>
    public static DataParallel SingleProcess { get; } = new(SingleProcessWorld.Instance);

    readonly ICommunicator world;
    readonly CancellationTokenSource agreedStop = new();
    readonly ConditionalWeakTable<Exception, object> collective = [];
    CancellationToken stopRequest;

    public DataParallel(ICommunicator world) => this.world = world;

    public ICommunicator World => world;
    public int Rank => world.Rank;
    public int Size => world.Size;
    /// <summary>Rank 0: the one that writes the run folder and reports progress.</summary>
    public bool IsMain => world.Rank == 0;

    /// <summary>
    /// The token training checks. With one process it is <paramref name="stopRequest"/> itself. With several, a
    /// signal reaches each rank at its own moment, and a rank that stopped on its own would leave the others
    /// waiting in a collective: the request travels with the next step's sums, and the returned token is
    /// cancelled on every rank after the same step.
    /// </summary>
    public CancellationToken Follow(CancellationToken stopRequest)
    {
        if (Size == 1 || stopRequest == agreedStop.Token) return stopRequest;
        this.stopRequest = stopRequest;
        return agreedStop.Token;
    }

    /// <summary>This rank's images of a batch of <paramref name="batchLength"/>: a contiguous range, the sizes
    /// differing by at most one between ranks.</summary>
    public (int Start, int Length) ShareOf(int batchLength)
    {
        int start = (int)((long)batchLength * Rank / Size);
        int end = (int)((long)batchLength * (Rank + 1) / Size);
        return (start, end - start);
    }

    /// <summary>A seed of this rank's own (dropout masks must differ between ranks); rank 0 keeps <paramref name="seed"/>.</summary>
    public long SeedOfThisRank(long seed) => Rank == 0 ? seed : Seeds.ForEpoch(seed, Rank, Seeds.Dropout); // (seed, rank) mixed as (seed, epoch) is

    /// <summary>The summing of a network's gradients over the ranks (each rank weighted its loss by its share), or null with one process.</summary>
    public GradientAllReduce? Gradients(nn.Module model) => Size == 1 ? null : new GradientAllReduce(world, model);

    /// <summary>
    /// One step's summed loss (over its images) and correct predictions, totalled over the ranks, which also agree
    /// whether to stop. A rank's non-finite loss makes the total non-finite on every rank.
    /// </summary>
    public (double LossSum, long Correct) AgreeOnStep(double lossSum, long correct)
    {
        if (Size == 1) return (lossSum, correct);
        Span<double> totals = [lossSum, correct, StopRequested];
        world.Sum(totals);
        if (totals[2] > 0) agreedStop.Cancel();
        return (totals[0], (long)totals[1]);
    }

    double StopRequested => stopRequest.IsCancellationRequested ? 1 : 0;

    /// <summary>Whether every rank has agreed to stop now (a collective: every rank calls it at the same point).</summary>
    void AgreeOnStop()
    {
        Span<double> stop = [StopRequested];
        world.Sum(stop);
        if (stop[0] > 0) agreedStop.Cancel();
        agreedStop.Token.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Makes every rank's network rank 0's: <paramref name="initializeOnMain"/> (a data-dependent initialisation,
    /// such as the fast network's whitening) runs on rank 0 only, then all its parameters and buffers are broadcast.
    /// </summary>
    public void StartFromMain(nn.Module model, Action? initializeOnMain = null)
    {
        if (IsMain) initializeOnMain?.Invoke();
        if (Size == 1) return;
        using var scope = NewDisposeScope();
        foreach (var (_, tensor) in model.state_dict()) Broadcast(tensor);
    }

    /// <summary>
    /// After an epoch: the parameters must be the same bits on every rank (a SHA-256 of them compared), and from
    /// here on every rank holds rank 0's batch-norm statistics (each rank's were updated from its own shares, as in
    /// PyTorch's DDP), so that validation and the checkpoint see one network.
    /// </summary>
    public void EndEpoch(nn.Module model, int epoch)
    {
        if (Size == 1) return;
        using var scope = NewDisposeScope();
        var hashes = world.Gather(ParameterHash(model));
        var differing = Enumerable.Range(1, Size - 1)
            .Where(r => !hashes.AsSpan(r * 32, 32).SequenceEqual(hashes.AsSpan(0, 32)))
            .ToList();
        if (differing.Count > 0)
            throw Collective(new DistributedException(
                $"after epoch {epoch} the weights of rank{(differing.Count > 1 ? "s" : "")} {string.Join(", ", differing)} differ from rank 0's: " +
                "the ranks no longer compute the same update (ranks on different CPU types or thread counts round differently); " +
                "run every rank on the same kind of machine with the same --threads"));
        foreach (var (_, buffer) in model.named_buffers()) Broadcast(buffer);
    }

    static byte[] ParameterHash(nn.Module model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var parameter in model.parameters())
        {
            using var scope = NewDisposeScope();
            sha.AppendData(parameter.detach().cpu().contiguous().bytes);
        }
        return sha.GetHashAndReset();
    }

    void Broadcast(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var dense = tensor.detach().cpu().contiguous(); // the tensor's own memory when it is dense on the CPU already
        world.Broadcast(dense.bytes, root: 0);
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous()) tensor.copy_(dense);
    }

    /// <summary>
    /// Evaluates <paramref name="data"/> sharded over the ranks and returns the whole set's result on every rank.
    /// Each rank runs <paramref name="evaluate"/> on its share, <paramref name="batchSize"/> images at a time, and
    /// the ranks agree after each batch whether to stop. With one process it is <paramref name="evaluate"/> of all.
    /// </summary>
    public EvaluationResult Evaluate(ImageDataset data, int batchSize, Func<ImageDataset, EvaluationResult> evaluate)
    {
        if (Size == 1) return evaluate(data);
        var (start, length) = ShareOf(data.Count);
        int largestShare = (data.Count + Size - 1) / Size;
        int rounds = (largestShare + batchSize - 1) / batchSize;
        var parts = new List<(int Start, EvaluationResult Result)>();
        for (int round = 0; round < rounds; round++)
        {
            agreedStop.Token.ThrowIfCancellationRequested(); // on every rank alike, also one without images this round
            int from = round * batchSize, count = Math.Clamp(length - from, 0, batchSize);
            if (count > 0)
            {
                using var part = Slice(data, start + from, count);
                parts.Add((start + from, evaluate(part)));
            }
            AgreeOnStop();
        }
        return Combine(data, parts);
    }

    static ImageDataset Slice(ImageDataset data, int start, int count) =>
        new(data.Images.narrow(0, start, count), data.Labels.narrow(0, start, count), data.ClassNames);

    /// <summary>The ranks' parts as one result: each image's class probabilities and label in its place (every other
    /// rank contributes zeros there), summed over the ranks, and the figures computed from them as one process would.</summary>
    EvaluationResult Combine(ImageDataset data, List<(int Start, EvaluationResult Result)> parts)
    {
        int n = data.Count, classes = data.ClassNames.Count;
        var probabilities = new float[n * classes];
        var labels = new long[n];
        foreach (var (start, part) in parts)
        {
            part.Probabilities.CopyTo(probabilities, start * classes);
            for (int i = 0; i < part.Count; i++) labels[start + i] = part.TrueLabels[i];
        }
        world.Sum(probabilities);
        world.Sum(labels);
        return EvaluationResult.FromProbabilities(probabilities, labels.Select(l => (int)l).ToArray(), data.ClassNames);
    }

    /// <summary>Rank 0's <paramref name="text"/> on every rank (a decision only rank 0's observers make, such as a stop).</summary>
    public string? FromMain(string? text)
    {
        if (Size == 1) return text;
        var bytes = FromMain(text is null ? null : Encoding.UTF8.GetBytes(text));
        return bytes is null ? null : Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Rank 0's <paramref name="bytes"/> (null included) on every rank; what the others pass is ignored.</summary>
    public byte[]? FromMain(byte[]? bytes)
    {
        if (Size == 1) return bytes;
        Span<long> length = [IsMain ? bytes?.Length ?? -1 : 0];
        world.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(length), root: 0);
        if (length[0] < 0) return null;
        var received = IsMain ? bytes! : new byte[length[0]];
        world.Broadcast(received, root: 0);
        return received;
    }

    /// <summary>
    /// What this rank ends with after <paramref name="failure"/>. A failure every rank shares ends every rank cleanly,
    /// rank 0 reporting it. Any other is this rank's alone while the others may be waiting for it in a collective:
    /// once it has been reported and the process exits, MPI_Abort makes the launcher end them.
    /// </summary>
    public Exception Ending(Exception failure)
    {
        if (Size == 1) return failure;
        if (IsCollective(failure)) return IsMain || failure is ReportedByRankZeroException ? failure : new ReportedByRankZeroException(failure);
        (world as MpiCommunicator)?.AbortAtExit(1);
        return failure;
    }

    /// <summary>Marks <paramref name="failure"/> as one that every rank raises at the same point (see <see cref="IsCollective"/>).</summary>
    public Exception Collective(Exception failure)
    {
        collective.AddOrUpdate(failure, this);
        return failure;
    }

    /// <summary>
    /// Whether every rank fails with <paramref name="failure"/> at the same point, so that all can end cleanly: a
    /// stop (only ever raised through the agreed token, see <see cref="Follow"/>), or a failure marked by
    /// <see cref="Collective"/>. Any other failure is this rank's alone, and the others may be waiting for it.
    /// </summary>
    public bool IsCollective(Exception failure) =>
        failure is OperationCanceledException or ReportedByRankZeroException || collective.TryGetValue(failure, out _);
}
