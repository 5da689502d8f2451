using System.Runtime.InteropServices;

namespace Mhc.Models.Native;

/// <summary>
/// MKL's thread-local thread count, bound from the libtorch_cpu that is loaded (MKL is linked into it). MKL's GEMM,
/// which libtorch uses for linear layers and its own convolutions, opens an OpenMP team of its own size
/// (<c>num_threads</c> clause), so limiting OpenMP's team size alone does not keep it on one thread; libtorch sets this
/// per-thread value on each thread's first parallel op.
/// </summary>
internal static unsafe class MklThreads
{
    private static readonly object Gate = new();
    private static bool resolved;
    private static delegate* unmanaged<int, int> setLocal;
    private static delegate* unmanaged<int> getMax;

    /// <summary>The threads MKL would use on the calling thread now, or -1 where MKL cannot be reached.</summary>
    public static int MaxForThisThread()
    {
        Resolve();
        return getMax == null ? -1 : getMax();
    }

    /// <summary>Sets the calling thread's MKL thread count (0: back to MKL's process setting); returns the previous one, or -1 where MKL cannot be reached.</summary>
    public static int SetForThisThread(int threads)
    {
        Resolve();
        return setLocal == null ? -1 : setLocal(threads);
    }

    private static void Resolve()
    {
        if (resolved) return;
        lock (Gate)
        {
            if (resolved) return;
            if (!LoadedLibraries.Supported)
            {
                resolved = true;
                return;
            }
            if (LoadedLibraries.Find(file => file == "libtorch_cpu.so") is not { } path) return;
            // The by-value C entry; the lower-case mkl_set_num_threads_local in this build is the Fortran one (by pointer).
            if (NativeLibrary.TryLoad(path, out var handle) && NativeLibrary.TryGetExport(handle, "MKL_Set_Num_Threads_Local", out var set) &&
                NativeLibrary.TryGetExport(handle, "MKL_Get_Max_Threads", out var get))
            {
                setLocal = (delegate* unmanaged<int, int>)set;
                getMax = (delegate* unmanaged<int>)get;
            }
            resolved = true;
        }
    }
}
