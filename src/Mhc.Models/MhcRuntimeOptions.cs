using System.Globalization;

namespace Mhc.Models;

/// <summary>
/// Process-wide threading choices of the native (libtorch) backend. The defaults keep training and scoring fast when
/// other processes share the CPU, at no cost when the machine is free. The options in effect are
/// <see cref="MhcEnvironment.RuntimeOptions"/>; change them with <see cref="MhcEnvironment.Configure"/>, e.g.
/// <c>MhcEnvironment.Configure(MhcEnvironment.RuntimeOptions with { SingleRowScoringThreads = 2 })</c>.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="WorkerWait"/> is read by the OpenMP runtime once, when libtorch loads, which happens as soon as this
/// library is first used; so it can only be chosen before the process starts: in the app's project file
/// (<c>&lt;RuntimeHostConfigurationOption Include="Mhc.Runtime.WorkerWait" Value="Passive" /&gt;</c>, which goes to
/// runtimeconfig.json) or by the environment variable <c>MHC_WORKER_WAIT</c>. The other options can also be set that
/// way (<c>Mhc.Runtime.IntraOpThreads</c> / <c>MHC_THREADS</c>, <c>Mhc.Runtime.SingleRowScoringThreads</c> /
/// <c>MHC_SCORING_THREADS</c>, <c>Mhc.Runtime.AdaptThreadsToLoad</c> / <c>MHC_ADAPT_THREADS</c>), and changed at any time with <see cref="MhcEnvironment.Configure"/>. Environment
/// variables override runtimeconfig.json; they are read in <see cref="FromEnvironment"/> and nowhere else.
/// </para>
/// <para>
/// An <c>OMP_WAIT_POLICY</c>, <c>GOMP_SPINCOUNT</c> or <c>KMP_BLOCKTIME</c> set in the environment (before start, or
/// with <c>Environment.SetEnvironmentVariable</c> before this library is first used) is the user's own choice and
/// wins: <see cref="WorkerWait"/> is then <see cref="OpenMPWaitPolicy.RuntimeDefault"/>.
/// </para>
/// </remarks>
public sealed record MhcRuntimeOptions
{
    /// <summary>runtimeconfig.json knob and environment variable of <see cref="WorkerWait"/>.</summary>
    public const string WorkerWaitSetting = "Mhc.Runtime.WorkerWait", WorkerWaitVariable = "MHC_WORKER_WAIT";

    /// <summary>runtimeconfig.json knob and environment variable of <see cref="IntraOpThreads"/>.</summary>
    public const string IntraOpThreadsSetting = "Mhc.Runtime.IntraOpThreads", IntraOpThreadsVariable = "MHC_THREADS";

    /// <summary>runtimeconfig.json knob and environment variable of <see cref="SingleRowScoringThreads"/>.</summary>
    public const string SingleRowScoringThreadsSetting = "Mhc.Runtime.SingleRowScoringThreads", SingleRowScoringThreadsVariable = "MHC_SCORING_THREADS";

    /// <summary>runtimeconfig.json knob and environment variable of <see cref="AdaptThreadsToLoad"/>.</summary>
    public const string AdaptThreadsToLoadSetting = "Mhc.Runtime.AdaptThreadsToLoad", AdaptThreadsToLoadVariable = "MHC_ADAPT_THREADS";

    /// <summary>runtimeconfig.json knob and environment variable of <see cref="OneDnnConvolutions"/> (the variable takes auto | on | off too).</summary>
    public const string OneDnnConvolutionsSetting = "Mhc.Runtime.OneDnnConvolutions", OneDnnConvolutionsVariable = "MHC_MKLDNN";

    /// <summary>runtimeconfig.json knob and environment variable of <see cref="QuietGcDuringSteps"/> (<c>MHC_GC_QUIET=0</c> turns it off).</summary>
    public const string QuietGcDuringStepsSetting = "Mhc.Runtime.QuietGcDuringSteps", QuietGcDuringStepsVariable = "MHC_GC_QUIET";

    /// <summary>runtimeconfig.json knob of <see cref="TuneNativeAllocator"/>; the environment variable <c>MHC_NO_MALLOPT=1</c> turns it off.</summary>
    public const string TuneNativeAllocatorSetting = "Mhc.Runtime.TuneNativeAllocator", NoAllocatorTuningVariable = "MHC_NO_MALLOPT";

    /// <summary>runtimeconfig.json knob and environment variable of <see cref="NativeCacheDirectory"/>.</summary>
    public const string NativeCacheDirectorySetting = "Mhc.Runtime.NativeCacheDirectory", NativeCacheDirectoryVariable = "MHC_NATIVE_CACHE";

    /// <summary>
    /// How idle libtorch worker threads wait: <see cref="OpenMPWaitPolicy.Brief"/> (default) spins a few tens of microseconds, then
    /// sleeps. Fixed at process start (see the remarks of <see cref="MhcRuntimeOptions"/>).
    /// </summary>
    public OpenMPWaitPolicy WorkerWait { get; init; } = OpenMPWaitPolicy.Brief;

    /// <summary>
    /// libtorch's intra-op thread count for the process (training, batched <c>Transform</c>). Default 0: the CPUs
    /// this process may use (<see cref="Environment.ProcessorCount"/>, which honours CPU affinity and a container's
    /// CPU quota), never more than libtorch's own default (which honours <c>OMP_NUM_THREADS</c>). A trainer's
    /// <c>NumberOfThreads</c> overrides it for its run.
    /// </summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Intra-op threads for a call that scores one row (<c>PredictionEngine</c>, the saved model's row mapping, text
    /// generation): default 1. A one-row forward pass gains nothing from a second thread on a free machine and waits
    /// for it whenever another process keeps a core busy. 0: no limit (the process setting).
    /// </summary>
    public int SingleRowScoringThreads { get; init; } = 1;

    /// <summary>
    /// Whether a training loop's intra-op team shrinks while other processes keep CPUs busy, and grows back when they
    /// are free (see <see cref="Native.LoadAdaptiveThreads"/>): default true. With one of two cores taken by a
    /// neighbour, a two-thread team waits at every parallel region for a core it does not get (measured 2.8x the idle
    /// step time; one thread: 1.6x). Applies to training runs that do not fix <c>NumberOfThreads</c>. Set false where a
    /// seeded run must be bitwise reproducible on a shared machine: parallel reductions can round differently on
    /// another team size.
    /// </summary>
    public bool AdaptThreadsToLoad { get; init; } = true;

    /// <summary>
    /// oneDNN's CPU convolutions: <see cref="OneDnnConvolutionMode.Verify"/> (default) checks each convolution shape's
    /// gradients against float64 once, when a trainer starts, and turns oneDNN off only where they are wrong.
    /// </summary>
    public OneDnnConvolutionMode OneDnnConvolutions { get; init; } = OneDnnConvolutionMode.Verify;

    /// <summary>
    /// Whether finalizers wait while a step's native work runs (see <see cref="Native.GcQuietRegion"/>): default true.
    /// Turning it off is for diagnosis only: a finalizer that frees a TorchSharp scalar libtorch still reads crashes the step.
    /// </summary>
    public bool QuietGcDuringSteps { get; init; } = true;

    /// <summary>
    /// Whether glibc's allocator is tuned once for libtorch's per-step buffers (mmap threshold 32 MB, no trimming, 256 MB
    /// top pad): default true; measured 2.1-2.6x faster CPU training. Read when libtorch is first initialised.
    /// </summary>
    public bool TuneNativeAllocator { get; init; } = true;

    /// <summary>
    /// Where the patched copy of TorchSharp's native library is kept (see the README's native-loading section); null
    /// (default): <c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>, then <c>microsoft.ml.mhc/native</c>. Read when the library loads,
    /// so only the runtimeconfig.json knob or the environment variable can set it.
    /// </summary>
    public string? NativeCacheDirectory { get; init; }

    /// <summary>The process-wide thread count asked for: <see cref="IntraOpThreads"/>, or for 0 the CPUs available, at most libtorch's default.</summary>
    internal int IntraOpThreadsFor(int libTorchDefault, int availableCpus) =>
        IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, Math.Min(libTorchDefault, availableCpus));

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the option when a value is out of range.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(WorkerWait))
            throw new ArgumentOutOfRangeException(nameof(WorkerWait), WorkerWait, $"Use one of {string.Join(", ", Enum.GetNames<OpenMPWaitPolicy>())}.");
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "0 (the CPUs available) or a positive thread count.");
        if (!Enum.IsDefined(OneDnnConvolutions))
            throw new ArgumentOutOfRangeException(nameof(OneDnnConvolutions), OneDnnConvolutions, $"Use one of {string.Join(", ", Enum.GetNames<OneDnnConvolutionMode>())}.");
        if (SingleRowScoringThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(SingleRowScoringThreads), SingleRowScoringThreads, "0 (no limit) or a positive thread count.");
    }

    /// <summary>
    /// The options this process starts with: the defaults, then the runtimeconfig.json knobs, then the environment
    /// variables (<c>MHC_WORKER_WAIT</c> = brief | passive | runtimedefault, <c>MHC_THREADS</c>,
    /// <c>MHC_SCORING_THREADS</c>, <c>MHC_ADAPT_THREADS</c> = 1 | 0, <c>MHC_MKLDNN</c> = auto | on | off,
    /// <c>MHC_GC_QUIET</c> = 1 | 0, <c>MHC_NO_MALLOPT</c> = 1 | 0, <c>MHC_NATIVE_CACHE</c> = a folder); an OpenMP wait variable already in the environment makes
    /// <see cref="WorkerWait"/> <see cref="OpenMPWaitPolicy.RuntimeDefault"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A setting has a value that is not understood; the message names it.</exception>
    public static MhcRuntimeOptions FromEnvironment()
    {
        var options = new MhcRuntimeOptions
        {
            WorkerWait = Read(WorkerWaitSetting, WorkerWaitVariable, ParsePolicy) ?? OpenMPWaitPolicy.Brief,
            IntraOpThreads = Read(IntraOpThreadsSetting, IntraOpThreadsVariable, ParseCount) ?? 0,
            SingleRowScoringThreads = Read(SingleRowScoringThreadsSetting, SingleRowScoringThreadsVariable, ParseCount) ?? 1,
            AdaptThreadsToLoad = Read(AdaptThreadsToLoadSetting, AdaptThreadsToLoadVariable, ParseSwitch) ?? true,
            OneDnnConvolutions = Read(OneDnnConvolutionsSetting, OneDnnConvolutionsVariable, ParseOneDnn) ?? OneDnnConvolutionMode.Verify,
            QuietGcDuringSteps = Read(QuietGcDuringStepsSetting, QuietGcDuringStepsVariable, ParseSwitch) ?? true,
            // The variable says the opposite of the knob (MHC_NO_MALLOPT=1 skips the tuning) and, as everywhere, wins.
            TuneNativeAllocator = Read(null, NoAllocatorTuningVariable, ParseSwitch) is { } skip ? !skip
                : Read(TuneNativeAllocatorSetting, null, ParseSwitch) ?? true,
            NativeCacheDirectory = ReadText(NativeCacheDirectorySetting, NativeCacheDirectoryVariable),
        };
        if (UserWaitVariable() is not null) options = options with { WorkerWait = OpenMPWaitPolicy.RuntimeDefault };
        options.Validate();
        return options;
    }

    /// <summary>The first OpenMP wait variable set in the environment, as <c>NAME=value</c>, or null.</summary>
    internal static string? UserWaitVariable()
    {
        foreach (var name in new[] { "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME" })
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) return $"{name}={value}";
        return null;
    }

    private static T? Read<T>(string? setting, string? variable, Func<string, T?> parse) where T : struct
    {
        T? value = null;
        if (setting is not null && AppContext.GetData(setting) is { } configured && configured.ToString() is { Length: > 0 } text)
            value = parse(text) ?? throw new ArgumentException($"runtimeconfig.json setting {setting} = '{text}' is not understood ({Expected<T>()}).");
        if (variable is not null && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } env)
            value = parse(env) ?? throw new ArgumentException($"Environment variable {variable} = '{env}' is not understood ({Expected<T>()}).");
        return value;
    }

    private static string? ReadText(string setting, string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } env ? env
        : AppContext.GetData(setting)?.ToString() is { Length: > 0 } configured ? configured
        : null;

    private static string Expected<T>() =>
        typeof(T) == typeof(OpenMPWaitPolicy) ? $"expected {string.Join(", ", Enum.GetNames<OpenMPWaitPolicy>())}"
        : typeof(T) == typeof(bool) ? "expected true, false, 1 or 0"
        : typeof(T) == typeof(OneDnnConvolutionMode) ? $"expected auto, on, off or one of {string.Join(", ", Enum.GetNames<OneDnnConvolutionMode>())}"
        : "expected 0 or a positive whole number";

    private static OpenMPWaitPolicy? ParsePolicy(string text) =>
        Enum.TryParse<OpenMPWaitPolicy>(text.Trim().Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var p)
        && Enum.IsDefined(p) && !int.TryParse(text, out _) ? p : null;

    private static OneDnnConvolutionMode? ParseOneDnn(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" or "verify" => OneDnnConvolutionMode.Verify,
        "on" or "trust" => OneDnnConvolutionMode.Trust,
        "off" or "disable" => OneDnnConvolutionMode.Disable,
        _ => null,
    };

    private static bool? ParseSwitch(string text) => text.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "on" or "yes" => true,
        "0" or "false" or "off" or "no" => false,
        _ => null,
    };

    private static int? ParseCount(string text) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
}
