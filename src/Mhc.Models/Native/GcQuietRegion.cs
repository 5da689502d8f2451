namespace Mhc.Models.Native;

/// <summary>
/// Holds .NET finalizers back while a training step, a scoring batch or a generated token is inside libtorch.
/// </summary>
/// <remarks>
/// <para>
/// Why: TorchSharp 0.107 turns every .NET number passed to an op into a native <c>Scalar</c> (<c>x * 0.5</c>,
/// BatchNorm's <c>num_batches_tracked.add_(1)</c>, seven per parameter in AdamW's update) and passes only its handle to
/// libtorch, without keeping the managed object alive or disposing it (dotnet/TorchSharp PR #1496 tracks the missing
/// disposals). If another thread (a progress display, a web server) triggers a GC while libtorch is still reading such a
/// Scalar, the finalizer thread can free it under libtorch. We saw exactly that after minutes of training: an
/// AccessViolationException, or "For integral input tensors, argument alpha must not be a floating point number" from
/// BatchNorm. Disposing our own Scalars would not be enough: TorchSharp's optimizers and modules create them too.
/// </para>
/// <para>
/// How: only the finalizer frees a Scalar's native memory; a collection by itself never touches it. So instead of keeping
/// the GC out (a no-GC region: it forced a full blocking collection per step and left about 100 KB behind per region on
/// .NET 10.0.12; the Fashion-MNIST main job peaked at 12.6 GB with it, a 4-epoch run at 1.6 GB with this gate), the
/// first holder parks the finalizer thread inside the finalizer of a <see cref="Sentinel"/> and the last holder lets it
/// go. Collections keep running during the step; what they find dead waits, and is finalized as soon as the step ends.
/// Parking costs a gen-0 collection and two thread hand-offs, and is skipped while no collection has happened since the
/// finalizer thread was parked (nothing new can be waiting for it then). Once a collection has queued work for the
/// finalizer, new holders wait for the current ones to leave, so overlapping scoring threads cannot hold finalization
/// back for ever.
/// </para>
/// <para>
/// The gate is process-wide and counted: concurrent and nested holders share it. A lease must be disposed on the thread
/// that entered, and a holder must not wait for finalizers (<c>GC.WaitForPendingFinalizers</c>): the finalizer thread is
/// parked for at most a minute at a time for that reason. <see cref="MhcRuntimeOptions.QuietGcDuringSteps"/> (<c>MHC_GC_QUIET=0</c>) turns the gate off.
/// </para>
/// </remarks>
internal static class GcQuietRegion
{
    /// <summary>How long a first holder waits for the finalizer thread to park before it runs unprotected.</summary>
    private static readonly TimeSpan ParkTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest the finalizer thread stays parked at a stretch. TorchSharp calls <c>GC.WaitForPendingFinalizers</c>
    /// when libtorch fails to allocate a tensor, and the runtime runs process-exit handlers on the finalizer thread
    /// (<c>Environment.Exit</c> inside a step); either would wait for ever, so after this long the finalizer runs again
    /// (a step that takes longer is then unprotected for the rest of it). Callbacks into user code run outside the gate.
    /// </summary>
    internal static TimeSpan MaxPark { get; set; } = TimeSpan.FromSeconds(60);

    private static readonly object Gate = new();
    private static bool? enabledOverride;

    /// <summary>Whether the gate works (<see cref="MhcRuntimeOptions.QuietGcDuringSteps"/>); settable for tests and benchmarks.</summary>
    internal static bool Enabled
    {
        get => enabledOverride ?? MhcEnvironment.RuntimeOptions.QuietGcDuringSteps;
        set => enabledOverride = value;
    }

    [ThreadStatic]
    private static int heldByThisThread;

    private static int depth;              // holders
    private static bool closed;            // finalizers must wait
    private static bool parked;            // the finalizer thread waits inside a sentinel's finalizer
    private static int parkedAtCollection; // GC.CollectionCount(0) when it parked
    private static int finalizerThreadId;

    /// <summary>Enters the gate; dispose the returned value when the native work is done.</summary>
    public static Lease Enter()
    {
        if (!Enabled) return default;
        lock (Gate)
        {
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref finalizerThreadId))
                return default; // a finalizer doing native work: it cannot wait for itself
            if (heldByThisThread == 0)
            {
                // Finalizers have been queued since the thread parked: let the current holders finish so that it can drain.
                while (depth > 0 && parked && GC.CollectionCount(0) != parkedAtCollection) Monitor.Wait(Gate);
            }
            heldByThisThread++;
            if (depth++ == 0) Close();
        }
        return new Lease(true);
    }

    /// <summary>True while the finalizer thread is parked by this gate (finalizers are held back).</summary>
    public static bool IsActive
    {
        get
        {
            lock (Gate) return closed && parked;
        }
    }

    /// <summary>How many holders are inside the gate.</summary>
    public static int Holders
    {
        get
        {
            lock (Gate) return depth;
        }
    }

    // Called with Gate held, by the first holder.
    private static void Close()
    {
        closed = true;
        if (parked && GC.CollectionCount(0) == parkedAtCollection) return; // still parked, nothing queued since
        var deadline = DateTime.UtcNow + ParkTimeout;
        if (parked)
        {
            // Let it run what was queued before this step, then park it again behind a new sentinel.
            closed = false;
            Monitor.PulseAll(Gate);
            while (parked && Wait(deadline)) { }
            closed = true;
        }
        for (int generation = 0; !parked; generation = Math.Min(generation + 1, GC.MaxGeneration))
        {
            var sentinel = Sentinel.Create();
            GC.Collect(generation, GCCollectionMode.Forced, blocking: true);
            if (sentinel.IsAlive && DateTime.UtcNow < deadline) continue; // promoted by another collection first: go older
            while (!parked && Wait(deadline)) { }
            return; // parked, or timed out (then this step runs unprotected, as if the gate were off)
        }
    }

    // Waits on Gate for a pulse; false once the deadline has passed.
    private static bool Wait(DateTime deadline)
    {
        var left = deadline - DateTime.UtcNow;
        if (left <= TimeSpan.Zero) return false;
        Monitor.Wait(Gate, left);
        return true;
    }

    private static void Exit()
    {
        lock (Gate)
        {
            heldByThisThread--;
            if (--depth != 0) return;
            closed = false;
            Monitor.PulseAll(Gate);
        }
    }

    /// <summary>An object whose finalizer keeps the finalizer thread waiting while the gate is closed.</summary>
    private sealed class Sentinel
    {
        // Not inlined, so that no reference to the new object survives in this frame when the caller collects.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static WeakReference Create() => new(new Sentinel(), trackResurrection: false);

        ~Sentinel()
        {
            lock (Gate)
            {
                Volatile.Write(ref finalizerThreadId, Environment.CurrentManagedThreadId);
                if (closed)
                {
                    parked = true;
                    parkedAtCollection = GC.CollectionCount(0);
                    Monitor.PulseAll(Gate);
                    var release = DateTime.UtcNow + MaxPark;
                    while (closed && Wait(release)) { }
                }
                parked = false;
                Monitor.PulseAll(Gate);
            }
        }
    }

    /// <summary>One holder of the gate; disposing it twice is harmless only for the default value.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly bool active;

        internal Lease(bool active) => this.active = active;

        /// <inheritdoc />
        public void Dispose()
        {
            if (active) Exit();
        }
    }
}
