using Cifar10.Distributed;

namespace Cifar10.Tests.Distributed;

/// <summary>
/// Ranks as threads of this process: <see cref="ICommunicator"/>'s collectives over shared memory, so that what the
/// ranks agree on is tested in milliseconds, without MPI. A rank that waits longer than a minute for the others
/// fails with a <see cref="TimeoutException"/> instead of hanging the test run.
/// </summary>
sealed class ThreadWorld(int size)
{
    readonly Barrier barrier = new(size);
    readonly object?[] slots = new object?[size];

    /// <summary>Runs <paramref name="body"/> on every rank at once; each rank's result, or what it threw.</summary>
    public static (T? Result, Exception? Error)[] Run<T>(int size, Func<DataParallel, T> body)
    {
        var world = new ThreadWorld(size);
        var outcomes = new (T?, Exception?)[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try
            {
                outcomes[rank] = (body(new DataParallel(new Member(world, rank))), null);
            }
            catch (Exception e)
            {
                outcomes[rank] = (default, e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return outcomes;
    }

    /// <summary>Every rank's <paramref name="mine"/>, in rank order.</summary>
    T[] Exchange<T>(int rank, T mine)
    {
        slots[rank] = mine;
        Synchronize();
        var all = slots.Cast<T>().ToArray();
        Synchronize(); // nobody writes the next exchange before everyone has read this one
        return all;
    }

    void Synchronize()
    {
        if (!barrier.SignalAndWait(TimeSpan.FromMinutes(1)))
            throw new TimeoutException("a rank waited a minute for the others in a collective");
    }

    sealed class Member(ThreadWorld world, int rank) : ICommunicator
    {
        public int Rank => rank;
        public int Size => world.slots.Length;

        public void Sum(Span<float> values) => Sum(values, (a, b) => a + b);
        public void Sum(Span<double> values) => Sum(values, (a, b) => a + b);
        public void Sum(Span<long> values) => Sum(values, (a, b) => a + b);

        void Sum<T>(Span<T> values, Func<T, T, T> add)
        {
            var all = world.Exchange(rank, values.ToArray());
            for (int i = 0; i < values.Length; i++)
            {
                var total = all[0][i];
                for (int r = 1; r < all.Length; r++) total = add(total, all[r][i]);
                values[i] = total;
            }
        }

        public void Broadcast(Span<byte> data, int root) => world.Exchange(rank, data.ToArray())[root].CopyTo(data);

        public byte[] Gather(ReadOnlySpan<byte> mine) => world.Exchange(rank, mine.ToArray()).SelectMany(b => b).ToArray();
    }
}
