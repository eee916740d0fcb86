using System.Threading.Channels;
using Cifar10.Data;
using Cifar10.Prediction;

namespace Cifar10.Serving;

/// <summary>
/// Puts requests that arrive together into one forward pass: the first request waits at most
/// <paramref name="maxWait"/> for others, and a pass takes at most <paramref name="maxBatch"/>
/// images (a request with more is split into passes of that size). One pass runs at a time, so the
/// network sees one batch after another and latency stays bounded while throughput under load grows
/// with the batch.
/// </summary>
public sealed class BatchingClassifier : IDisposable
{
    readonly IImageClassifier inner;
    readonly int maxBatch;
    readonly TimeSpan maxWait;
    readonly Channel<Request> queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    readonly Task loop;

    sealed record Request(ReadOnlyMemory<byte> Images, int Count, TaskCompletionSource<float[]> Done);

    public BatchingClassifier(IImageClassifier inner, int maxBatch, TimeSpan maxWait)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        this.inner = inner;
        this.maxBatch = maxBatch;
        this.maxWait = maxWait;
        loop = Task.Run(RunAsync);
    }

    public IReadOnlyList<string> ClassNames => inner.ClassNames;

    /// <summary>How many forward passes ran and how many images they held (for /healthz and the load benchmark).</summary>
    public long Passes => Interlocked.Read(ref passes);
    public long Images => Interlocked.Read(ref images);
    long passes, images;

    /// <summary>The probabilities of <paramref name="count"/> images (3×32×32 bytes each), row by row.</summary>
    public async Task<float[]> ClassifyAsync(byte[] pixels, int count, CancellationToken cancellation)
    {
        var parts = new List<Task<float[]>>();
        for (int start = 0; start < count; start += maxBatch)
        {
            int images = Math.Min(maxBatch, count - start);
            parts.Add(Enqueue(pixels.AsMemory(start * ImageDataset.ImageBytes, images * ImageDataset.ImageBytes), images));
        }
        var rows = await Task.WhenAll(parts).WaitAsync(cancellation);
        return rows.Length == 1 ? rows[0] : rows.SelectMany(r => r).ToArray();
    }

    Task<float[]> Enqueue(ReadOnlyMemory<byte> pixels, int count)
    {
        var done = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite(new Request(pixels, count, done)))
            throw new ObjectDisposedException(nameof(BatchingClassifier), "the server is shutting down");
        return done.Task;
    }

    async Task RunAsync()
    {
        var batch = new List<Request>();
        while (await queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            int count = 0;
            var deadline = DateTime.UtcNow + maxWait;
            // Gather what arrives within the wait, up to a full batch; a request that would overfill it waits for the next.
            while (count < maxBatch)
            {
                if (queue.Reader.TryPeek(out var request))
                {
                    if (count + request.Count > maxBatch) break;
                    queue.Reader.TryRead(out _);
                    batch.Add(request);
                    count += request.Count;
                    continue;
                }
                var left = deadline - DateTime.UtcNow;
                if (batch.Count > 0 && left <= TimeSpan.Zero) break;
                using var wait = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
                try
                {
                    if (!await queue.Reader.WaitToReadAsync(wait.Token)) break;
                }
                catch (OperationCanceledException)
                {
                    if (batch.Count > 0) break;
                }
            }
            if (batch.Count == 0) continue;
            Run(batch, count);
        }
    }

    void Run(List<Request> batch, int count)
    {
        try
        {
            var pixels = new byte[batch.Sum(r => r.Images.Length)];
            int offset = 0;
            foreach (var request in batch)
            {
                request.Images.Span.CopyTo(pixels.AsSpan(offset));
                offset += request.Images.Length;
            }
            var probabilities = inner.Probabilities(pixels, count);
            int classes = ClassNames.Count, row = 0;
            foreach (var request in batch)
            {
                request.Done.TrySetResult(probabilities.AsSpan(row * classes, request.Count * classes).ToArray());
                row += request.Count;
            }
            Interlocked.Increment(ref passes);
            Interlocked.Add(ref images, count);
        }
        catch (Exception e)
        {
            foreach (var request in batch) request.Done.TrySetException(e);
        }
    }

    /// <summary>Finishes the requests already queued, then stops.</summary>
    public void Dispose()
    {
        queue.Writer.TryComplete();
        loop.Wait(TimeSpan.FromSeconds(30));
    }
}
