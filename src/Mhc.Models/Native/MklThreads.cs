namespace Mhc.Models.Native;

/// <summary>
/// MKL's thread-local thread count, bound from the libtorch_cpu that is loaded (MKL is linked into it). MKL's GEMM,
/// which libtorch uses for linear layers and its own convolutions, opens an OpenMP team of its own size
/// (<c>num_threads</c> clause), so limiting OpenMP's team size alone does not keep it on one thread; libtorch sets this
/// per-thread value on each thread's first parallel op.
/// </summary>
internal static unsafe class MklThreads
{
    // The by-value C entries; the lower-case mkl_set_num_threads_local in this build is the Fortran one (by pointer).
    private static readonly LateBoundExports Exports =
        new(() => LoadedLibraries.Find(file => file == "libtorch_cpu.so"), "MKL_Set_Num_Threads_Local", "MKL_Get_Max_Threads");

    /// <summary>The threads MKL would use on the calling thread now, or -1 where MKL cannot be reached.</summary>
    public static int MaxForThisThread() => Exports.Get() is { } e ? ((delegate* unmanaged<int>)e[1])() : -1;

    /// <summary>Sets the calling thread's MKL thread count (0: back to MKL's process setting); returns the previous one, or -1 where MKL cannot be reached.</summary>
    public static int SetForThisThread(int threads) => Exports.Get() is { } e ? ((delegate* unmanaged<int, int>)e[0])(threads) : -1;
}
