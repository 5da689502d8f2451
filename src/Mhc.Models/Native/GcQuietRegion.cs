using System.Runtime;

namespace Mhc.Models.Native;

/// <summary>
/// Keeps the .NET garbage collector from running while a training step or a scoring batch is inside libtorch.
/// </summary>
/// <remarks>
/// <para>
/// Why: TorchSharp 0.107 turns every .NET number passed to an op into a native <c>Scalar</c> (<c>x * 0.5</c>,
/// BatchNorm's <c>num_batches_tracked.add_(1)</c>, the optimizers' updates) and passes only its handle to libtorch,
/// without keeping the managed object alive or disposing it (dotnet/TorchSharp PR #1496 tracks the missing
/// disposals). If another thread (a progress display, a web server) triggers a GC while libtorch is still reading
/// such a Scalar, its finalizer can free it under libtorch. We saw exactly that after minutes of training: an
/// AccessViolationException, or "For integral input tensors, argument alpha must not be a floating point number"
/// from BatchNorm. Collections between steps are harmless, because a Scalar of a finished op is no longer read.
/// </para>
/// <para>
/// The region is process-wide and reference-counted, so concurrent scoring threads share one region. If a step
/// allocates more than the budget, the runtime ends the region early by itself (the step is then unprotected, not
/// broken). <c>MHC_GC_QUIET=0</c> turns the guard off.
/// </para>
/// </remarks>
public static class GcQuietRegion
{
    private const long BudgetBytes = 64L << 20;
    private static readonly object Gate = new();
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("MHC_GC_QUIET") != "0";
    private static int depth;
    private static bool started;

    /// <summary>Enters the region; dispose the returned value when the native work is done.</summary>
    public static Lease Enter()
    {
        if (!Enabled) return default;
        lock (Gate)
        {
            if (depth++ == 0) started = TryStart();
        }
        return new Lease(true);
    }

    /// <summary>True while a region started by this class is in force.</summary>
    public static bool IsActive => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    private static bool TryStart()
    {
        try
        {
            // Never block on a full collection just to open the region: then the step simply runs unprotected.
            return !IsActive && GC.TryStartNoGCRegion(BudgetBytes, disallowFullBlockingGC: true);
        }
        catch (InvalidOperationException)
        {
            return false; // someone else's region is in force
        }
    }

    private static void Exit()
    {
        lock (Gate)
        {
            if (--depth != 0 || !started) return;
            started = false;
            try
            {
                if (IsActive) GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // The runtime already ended it (budget exceeded or an induced GC): nothing to undo.
            }
        }
    }

    /// <summary>One holder of the region; disposing it twice is harmless only for the default value.</summary>
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
