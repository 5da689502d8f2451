using System.Runtime.InteropServices;

namespace Mhc.Models.Native;

/// <summary>
/// The OpenMP runtime that libtorch's CPU kernels (ATen's parallel_for, oneDNN, MKL) run on: on Linux the GNU libgomp
/// shipped beside libtorch (libgomp-&lt;hash&gt;.so.1), elsewhere Intel's or LLVM's. Two things are done here:
/// the wait settings are put into the native environment before the runtime loads (it reads them once, in its
/// library constructor), and the calling thread's team size is set through the runtime's own
/// <c>omp_set_num_threads</c>, whose <c>nthreads-var</c> is a per-thread setting (libtorch's
/// <c>get_num_threads</c> reads it back).
/// </summary>
internal static unsafe partial class OpenMPRuntime
{
    /// <summary>GNU libgomp: spin iterations of an idle worker before it sleeps (unset: about 3 ms).</summary>
    internal const string GnuSpinCountVariable = "GOMP_SPINCOUNT";

    /// <summary>Intel's and LLVM's runtime: milliseconds an idle worker spins before it sleeps (unset: 200 ms).</summary>
    internal const string IntelBlockTimeVariable = "KMP_BLOCKTIME";

    /// <summary>The standard policy variable both runtimes read (ACTIVE or PASSIVE).</summary>
    internal const string WaitPolicyVariable = "OMP_WAIT_POLICY";

    private static readonly string[] RuntimeFilePrefixes = ["libgomp", "libiomp5", "libomp"];
    // Bound only once libtorch has loaded the runtime: loading it ourselves first would fix its settings early.
    private static readonly LateBoundExports TeamSize = new(LoadedRuntimePath, "omp_set_num_threads");

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    /// <summary>
    /// GNU libgomp spin iterations of <see cref="OpenMPWaitPolicy.Brief"/> (one <c>pause</c> each: tens of
    /// microseconds in all; the runtime's default is 300000). Measured on 2 cores, training steps of the Hyper-ResNet
    /// and the decoder: 3000 kept the free machine's speed (+1-2 %, 1000: +5 %, 0: +17-34 %); with one busy
    /// process, 1000 and 0 kept a fair share while 10000 and more lost 3-4x.
    /// </summary>
    internal const long BriefSpinCount = 3_000;

    /// <summary>
    /// Puts <paramref name="policy"/> into the native environment for the OpenMP runtime to read when it loads. Must
    /// run before libtorch loads; a wait variable the user set (see <see cref="MhcRuntimeOptions.UserWaitVariable"/>)
    /// is passed on unchanged instead, since one set with <c>Environment.SetEnvironmentVariable</c> would otherwise
    /// never reach native code.
    /// </summary>
    /// <returns>One line saying what the workers will do.</returns>
    public static string ApplyWaitPolicy(OpenMPWaitPolicy policy)
    {
        if (LoadedRuntimePath() is { } loaded)
            return $"OpenMP runtime {Path.GetFileName(loaded)} was loaded before the mHC library, so its wait settings were left as they were";
        if (MhcRuntimeOptions.UserWaitVariable() is { } user)
        {
            foreach (var name in new[] { WaitPolicyVariable, GnuSpinCountVariable, IntelBlockTimeVariable })
                if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) SetNativeEnvironment(name, value);
            return $"OpenMP worker wait left to the environment ({user})";
        }
        return policy switch
        {
            OpenMPWaitPolicy.Brief => SetNativeEnvironment(GnuSpinCountVariable, BriefSpinCount.ToString(System.Globalization.CultureInfo.InvariantCulture))
                ? $"OpenMP workers spin briefly, then sleep ({GnuSpinCountVariable}={BriefSpinCount})"
                : "OpenMP worker wait not set (no libc environment on this OS)",
            OpenMPWaitPolicy.Passive => SetNativeEnvironment(WaitPolicyVariable, "PASSIVE")
                ? $"OpenMP workers sleep at once ({WaitPolicyVariable}=PASSIVE)"
                : "OpenMP worker wait not set (no libc environment on this OS)",
            _ => "OpenMP worker wait left at the runtime's default",
        };
    }

    /// <summary>
    /// Sets <paramref name="name"/> in the native (libc) environment, which native libraries read with getenv. .NET
    /// keeps its own copy of the environment, so <see cref="Environment.SetEnvironmentVariable(string, string)"/>
    /// alone does not reach native code; this leaves that copy (and so child processes) alone.
    /// </summary>
    /// <returns>False where there is no libc to call (Windows).</returns>
    public static bool SetNativeEnvironment(string name, string value)
    {
        if (OperatingSystem.IsWindows()) return false;
        try
        {
            return SetEnv(name, value, overwrite: 1) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>A variable as native code sees it (libc getenv), or null.</summary>
    public static string? GetNativeEnvironment(string name)
    {
        if (OperatingSystem.IsWindows()) return null;
        try
        {
            var value = GetEnv(name);
            return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The path of the OpenMP runtime mapped into this process, or null (not loaded yet, or not Linux).</summary>
    public static string? LoadedRuntimePath() =>
        LoadedLibraries.Find(file => RuntimeFilePrefixes.Any(p => file.StartsWith(p + ".so", StringComparison.Ordinal) || file.StartsWith(p + "-", StringComparison.Ordinal)));

    /// <summary>Whether the calling thread's team size can be set (the runtime is loaded and exports the API).</summary>
    public static bool CanSetThreadTeamSize => TeamSize.Get() is not null;

    /// <summary>Sets the calling thread's <c>nthreads-var</c>; other threads keep theirs. No-op where unavailable.</summary>
    public static void SetThreadsOfThisThread(int threads)
    {
        if (threads > 0 && TeamSize.Get() is { } e) ((delegate* unmanaged<int, void>)e[0])(threads);
    }
}
