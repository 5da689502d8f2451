using System.Runtime.InteropServices;

namespace Benchmarks;

/// <summary>
/// CPU time of the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>), to time one-thread work
/// on a shared machine: wall time also counts the time other processes held the core, CPU time does not (cache and
/// memory-bandwidth contention still show in both). Not available elsewhere: <see cref="IsAvailable"/> is false.
/// </summary>
public static partial class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    /// <summary>Whether the thread CPU clock can be read here.</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && TryRead(out _);

    /// <summary>The calling thread's CPU time in milliseconds, or NaN where it cannot be read.</summary>
    public static double Milliseconds() => IsAvailable && TryRead(out var ms) ? ms : double.NaN;

    private static bool TryRead(out double milliseconds)
    {
        milliseconds = double.NaN;
        try
        {
            if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) return false;
            milliseconds = t.Seconds * 1e3 + t.Nanoseconds / 1e6;
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
