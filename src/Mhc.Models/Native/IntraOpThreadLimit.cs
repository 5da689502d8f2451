using TorchSharp;

namespace Mhc.Models.Native;

/// <summary>
/// Caps libtorch's intra-op threads for the calling thread only, for the length of a <c>using</c> block. Used for
/// single-row scoring: a one-row forward pass is too small to gain from a second thread, and under a busy neighbour
/// every parallel region waits for a worker that has no core (measured: 500 rows 1.4 ms each with one thread,
/// 7-15 ms each with two while one other process was busy).
/// </summary>
/// <remarks>
/// <c>torch.set_num_threads</c> cannot do this: it changes libtorch's process-wide default (threads that have not
/// run a parallel op yet take it) and clears oneDNN's cache on every call. Both team sizes libtorch's kernels read
/// are per-thread settings: OpenMP's <c>nthreads-var</c> (ATen's parallel_for, oneDNN) and MKL's thread-local count
/// (its GEMM); both are set here and put back afterwards, so concurrent scoring threads and a training thread are
/// not affected.
/// </remarks>
public readonly struct IntraOpThreadLimit : IDisposable
{
    private readonly int restore;
    private readonly int restoreMkl;

    private IntraOpThreadLimit(int restore, int restoreMkl)
    {
        this.restore = restore;
        this.restoreMkl = restoreMkl;
    }

    /// <summary>
    /// Limits the calling thread to <paramref name="threads"/> intra-op threads until disposed (0 or less: no limit).
    /// Does nothing where the thread already uses no more, or where the OpenMP runtime cannot be reached.
    /// </summary>
    public static IntraOpThreadLimit Enter(int threads)
    {
        if (threads <= 0) return default;
        // libtorch's get_num_threads is this thread's omp_get_max_threads; it also runs ATen's once-per-thread
        // setup, which would otherwise overwrite the limit on the thread's first parallel op.
        int current = torch.get_num_threads();
        if (current <= threads) return default;
        OpenMPRuntime.SetThreadsOfThisThread(threads);
        return new IntraOpThreadLimit(current, MklThreads.SetForThisThread(threads));
    }

    /// <summary>Puts the thread's previous team sizes back.</summary>
    public void Dispose()
    {
        if (restore <= 0) return;
        OpenMPRuntime.SetThreadsOfThisThread(restore);
        if (restoreMkl >= 0) MklThreads.SetForThisThread(restoreMkl);
    }
}
