namespace Mhc.Models.Fused;

/// <summary>Splits a fused kernel's independent work items over libtorch's thread count.</summary>
internal static class KernelParallel
{
    /// <summary>
    /// Calls <paramref name="body"/>(start, end) on ranges covering 0..<paramref name="count"/>: on the calling thread
    /// when the work is small or libtorch runs one thread, else on up to <c>torch.get_num_threads()</c> threads.
    /// </summary>
    /// <param name="count">Number of work items.</param>
    /// <param name="minimumPerThread">Items below which another thread does not pay for itself.</param>
    /// <param name="body">Processes items [start, end).</param>
    public static void For(long count, long minimumPerThread, Action<long, long> body)
    {
        if (count <= 0) return;
        int threads = (int)Math.Min(TorchSharp.torch.get_num_threads(), Math.Max(1, count / Math.Max(1, minimumPerThread)));
        if (threads <= 1)
        {
            body(0, count);
            return;
        }
        long chunk = (count + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
            i => body(i * chunk, Math.Min(count, (i + 1) * chunk)));
    }
}
