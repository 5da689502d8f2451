namespace Microsoft.ML.Mhc.Lifetime;

/// <summary>
/// Makes disposal of a native network safe and visible: uses after <see cref="Dispose"/> throw
/// <see cref="ObjectDisposedException"/> naming the owner, and <see cref="Dispose"/> waits for uses still in flight
/// (a scoring thread inside libtorch) before it frees anything, so a network is never freed under a forward pass.
/// </summary>
internal sealed class DisposalGuard
{
    private readonly object gate = new();
    private readonly string ownerName;
    private int users;
    private bool disposed;

    /// <summary>Creates a guard for the object named <paramref name="ownerName"/> (its type name, as ML.NET users see it).</summary>
    public DisposalGuard(string ownerName) => this.ownerName = ownerName;

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (gate) return disposed;
        }
    }

    /// <summary>Starts a use; dispose the result when done.</summary>
    /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
    public Use Enter()
    {
        lock (gate)
        {
            ThrowIfDisposedLocked();
            users++;
        }
        return new Use(this);
    }

    /// <summary>Throws when the owner was disposed.</summary>
    /// <exception cref="ObjectDisposedException">The owner was disposed.</exception>
    public void ThrowIfDisposed()
    {
        lock (gate) ThrowIfDisposedLocked();
    }

    /// <summary>
    /// Marks the owner disposed, waits for the uses in flight, then runs <paramref name="free"/> once.
    /// Later calls do nothing.
    /// </summary>
    public void Dispose(Action free)
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            while (users > 0) Monitor.Wait(gate);
        }
        free();
    }

    private void ThrowIfDisposedLocked()
    {
        if (disposed)
            throw new ObjectDisposedException(ownerName, $"This {ownerName} was disposed, which freed its network; create or load the model again to use it.");
    }

    private void Leave()
    {
        lock (gate)
        {
            if (--users == 0) Monitor.PulseAll(gate);
        }
    }

    /// <summary>One use of the guarded object.</summary>
    public readonly struct Use : IDisposable
    {
        private readonly DisposalGuard? guard;

        internal Use(DisposalGuard guard) => this.guard = guard;

        /// <inheritdoc />
        public void Dispose() => guard?.Leave();
    }
}
