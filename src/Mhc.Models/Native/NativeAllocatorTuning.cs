using System.Runtime.InteropServices;

namespace Mhc.Models.Native;

/// <summary>
/// Tunes glibc malloc for libtorch's allocation pattern. libtorch frees and re-allocates the same
/// multi-megabyte activation buffers every step; with glibc's default dynamic mmap threshold each
/// of them is a fresh mmap/munmap and a storm of page faults. Keeping buffers under 32 MB on the heap
/// and never trimming measured 2.1-2.6x faster CPU training on 2 cores. Must be a P/Invoke:
/// MALLOC_* environment variables set from managed code are read too late by glibc.
/// </summary>
internal static partial class NativeAllocatorTuning
{
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapThreshold = -3;
    private static int applied;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    /// <summary>Applies the settings once per process; returns a description, or null if skipped.</summary>
    public static string? Apply()
    {
        if (!OperatingSystem.IsLinux() || !MhcEnvironment.RuntimeOptions.TuneNativeAllocator) return null;
        if (Interlocked.Exchange(ref applied, 1) == 1) return "mallopt tuned";
        try
        {
            bool ok = Mallopt(MMmapThreshold, 32 << 20) == 1
                    & Mallopt(MTrimThreshold, int.MaxValue) == 1
                    & Mallopt(MTopPad, 256 << 20) == 1;
            return ok ? "mallopt tuned" : "mallopt rejected";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // not glibc (musl): nothing to tune
        }
    }
}
