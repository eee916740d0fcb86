namespace Cifar10.Serving;

/// <summary>
/// Bytes that all requests together may hold at once (decoded pixels, uploaded bodies). A request takes its
/// share before it allocates and gives it back when done; while the budget is spent it waits, first come first
/// served (so a large image is not starved by small ones), until its share is free or its token is cancelled.
/// </summary>
public sealed class MemoryBudget(long capacity)
{
    readonly Lock gate = new();
    readonly LinkedList<(long Bytes, TaskCompletionSource Granted)> waiting = new();
    long inUse, peak;

    public long Capacity { get; } = capacity;
    public long InUse { get { lock (gate) return inUse; } }
    /// <summary>The most ever held at once.</summary>
    public long Peak { get { lock (gate) return peak; } }

    /// <summary>Waits for <paramref name="bytes"/> (at most <see cref="Capacity"/>); dispose the share to give them back.</summary>
    public async Task<IDisposable> AcquireAsync(long bytes, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Capacity);
        LinkedListNode<(long Bytes, TaskCompletionSource Granted)> node;
        lock (gate)
        {
            if (waiting.Count == 0 && inUse + bytes <= Capacity)
            {
                Take(bytes);
                return new Share(this, bytes);
            }
            node = waiting.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }
        await using (cancellation.Register(() => GiveUp(node, cancellation)))
            await node.Value.Granted.Task;
        return new Share(this, bytes);
    }

    void Take(long bytes)
    {
        inUse += bytes;
        peak = Math.Max(peak, inUse);
    }

    void GiveUp(LinkedListNode<(long Bytes, TaskCompletionSource Granted)> node, CancellationToken cancellation)
    {
        lock (gate)
        {
            if (node.List is null) return; // granted just before
            waiting.Remove(node);
            GrantWaiting(); // those behind it may fit now
        }
        node.Value.Granted.TrySetCanceled(cancellation);
    }

    void Release(long bytes)
    {
        lock (gate)
        {
            inUse -= bytes;
            GrantWaiting();
        }
    }

    void GrantWaiting()
    {
        while (waiting.First is { } first && inUse + first.Value.Bytes <= Capacity)
        {
            waiting.RemoveFirst();
            Take(first.Value.Bytes);
            first.Value.Granted.TrySetResult();
        }
    }

    sealed class Share(MemoryBudget budget, long bytes) : IDisposable
    {
        int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) budget.Release(bytes);
        }
    }
}
