namespace Compress.Runtime;

/// <summary>
/// A lock-free set of idle <see cref="BoundRun"/>s: renting takes one out of a slot with
/// <see cref="Interlocked.Exchange{T}(ref T, T)"/>, so no two threads ever share one, and a steady state
/// with up to <see cref="Capacity"/> concurrent callers allocates nothing.
/// </summary>
internal sealed class BoundRunPool : IDisposable
{
    private readonly BoundRun?[] _slots;
    private readonly Func<BoundRun> _create;
    private int _disposed;

    public BoundRunPool(Func<BoundRun> create)
    {
        _create = create;
        // Room for more idle runs than concurrent callers: a caller that scans while another returns may miss
        // and create one more, which must then fit, or the pool would keep dropping and re-creating runs.
        _slots = new BoundRun?[Math.Max(16, 4 * Environment.ProcessorCount)];
    }

    public int Capacity => _slots.Length;

    public BoundRun Rent()
    {
        // Start where this thread last left its run (threads spread over the slots), and scan twice: a run
        // returned into a slot already passed is then still found, so a new one is created only when every
        // run is really in use.
        int start = StartSlot();
        for (int k = 0; k < 2 * _slots.Length; k++)
        {
            BoundRun? run = Interlocked.Exchange(ref _slots[(start + k) % _slots.Length], null);
            if (run is not null)
            {
                return run;
            }
        }

        return _create();
    }

    public void Return(BoundRun run)
    {
        int start = StartSlot();
        for (int k = 0; k < _slots.Length && Volatile.Read(ref _disposed) == 0; k++)
        {
            int i = (start + k) % _slots.Length;
            if (Interlocked.CompareExchange(ref _slots[i], run, null) is null)
            {
                if (Volatile.Read(ref _disposed) != 0)
                {
                    // Dispose ran while we stored it: take it back out (unless Dispose already did).
                    Interlocked.Exchange(ref _slots[i], null)?.Dispose();
                }

                return;
            }
        }

        // More concurrent callers than slots (or disposed): drop the extra one.
        run.Dispose();
    }

    private int StartSlot() => Environment.CurrentManagedThreadId % _slots.Length;

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        for (int i = 0; i < _slots.Length; i++)
        {
            Interlocked.Exchange(ref _slots[i], null)?.Dispose();
        }
    }
}
