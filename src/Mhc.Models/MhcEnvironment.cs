using System.Runtime.CompilerServices;
using Mhc.Models.Native;
using TorchSharp;

namespace Mhc.Models;

/// <summary>What <see cref="MhcEnvironment.EnsureTorch"/> found.</summary>
/// <param name="Device">The best device available: <c>cuda</c> when CUDA works, else <c>cpu</c>.</param>
/// <param name="CudaAvailable">Whether a CUDA device can be used.</param>
/// <param name="LibTorchVersion">The libtorch version TorchSharp runs on.</param>
/// <param name="Threads">libtorch's intra-op thread count.</param>
/// <param name="NativeFix">One line on how the native component was made to load.</param>
/// <param name="Threading">One line on the thread and wait settings applied (see <see cref="MhcRuntimeOptions"/>).</param>
public sealed record TorchRuntimeInfo(string Device, bool CudaAvailable, string LibTorchVersion, int Threads, string NativeFix, string Threading)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"TorchSharp on {Device} (libtorch {LibTorchVersion}, {Threads} threads); {NativeFix}; {Threading}";
}

/// <summary>
/// The one entry that everything touching TorchSharp goes through first: makes the native
/// component load on this machine, tunes the native allocator, applies the threading options
/// (<see cref="MhcRuntimeOptions"/>), and reports what is available.
/// </summary>
public static class MhcEnvironment
{
    private static readonly object Gate = new();
    private static TorchRuntimeInfo? info;
    private static MhcRuntimeOptions runtimeOptions = new();
    private static string? runtimeOptionsError;
    private static string waitOutcome = "OpenMP worker wait not set";
    private static int libTorchDefaultThreads;

    /// <summary>
    /// Where one-line status messages of the native setup go; null (default) is silent. The ML.NET trainers report the same
    /// facts through the caller's <c>MLContext.Log</c>; set this to see them without ML.NET (e.g. <c>Console.Error.WriteLine</c>).
    /// </summary>
    public static Action<string>? Log { get; set; }

    /// <summary>
    /// Ensures TorchSharp's native backend is loadable and initialised. Safe to call often and from
    /// several threads; the work is done once per process.
    /// </summary>
    /// <exception cref="InvalidOperationException">The native backend cannot be loaded; the message
    /// says why and what to install.</exception>
    public static TorchRuntimeInfo EnsureTorch()
    {
        if (info is not null) return info;
        lock (Gate)
        {
            if (info is not null) return info;
            if (runtimeOptionsError is not null) throw new InvalidOperationException($"The mHC runtime options are invalid: {runtimeOptionsError}");
            var native = LibTorchSharpLoader.Prepare();
            if (native.Error is not null)
                throw new InvalidOperationException($"TorchSharp's native backend cannot be loaded: {native.Error}");
            var tuning = NativeAllocatorTuning.Apply();
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(
                    $"TorchSharp failed to initialise after the native check ({native.Action}): {e.GetBaseException().Message}", e);
            }
            bool cuda = torch.cuda.is_available();
            var fix = tuning is null ? native.Action : $"{native.Action}; {tuning}";
            libTorchDefaultThreads = torch.get_num_threads();
            if (IntraOpThreadsFor(runtimeOptions) != libTorchDefaultThreads) torch.set_num_threads(IntraOpThreadsFor(runtimeOptions));
            info = new TorchRuntimeInfo(cuda ? "cuda" : "cpu", cuda, torch.__version__, torch.get_num_threads(), fix, Threading(runtimeOptions));
            Log?.Invoke(native.Action);
            return info;
        }
    }

    /// <summary>
    /// The threading options in effect (see <see cref="MhcRuntimeOptions"/>): at start the defaults, runtimeconfig.json
    /// knobs and environment overrides; later whatever <see cref="Configure"/> set.
    /// </summary>
    public static MhcRuntimeOptions RuntimeOptions => runtimeOptions;

    /// <summary>
    /// Makes <paramref name="options"/> the runtime options: the intra-op thread count is applied now, the
    /// single-row scoring limit from the next scoring call on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException"><see cref="MhcRuntimeOptions.WorkerWait"/> differs from the policy
    /// the process started with: it can only be chosen before start (runtimeconfig.json or <c>MHC_WORKER_WAIT</c>).</exception>
    public static void Configure(MhcRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        lock (Gate)
        {
            if (options.WorkerWait != runtimeOptions.WorkerWait)
                throw new InvalidOperationException(
                    $"WorkerWait is read by the OpenMP runtime when libtorch loads, before any code can change it; this process runs with " +
                    $"{runtimeOptions.WorkerWait}. Choose {options.WorkerWait} before start: <RuntimeHostConfigurationOption Include=\"{MhcRuntimeOptions.WorkerWaitSetting}\" " +
                    $"Value=\"{options.WorkerWait}\" /> in the app's project file, or the environment variable {MhcRuntimeOptions.WorkerWaitVariable}={options.WorkerWait}.");
            var previous = runtimeOptions;
            runtimeOptions = options;
            if (info is null) return;
            // Only a changed option is applied: the calling thread's own count may differ from the process default.
            if (IntraOpThreadsFor(options) != IntraOpThreadsFor(previous)) torch.set_num_threads(IntraOpThreadsFor(options));
            info = info with { Threads = IntraOpThreadsFor(options), Threading = Threading(options) };
        }
    }

    /// <summary>Sets libtorch's intra-op thread count (0 keeps the current setting).</summary>
    public static void SetThreads(int threads)
    {
        EnsureTorch();
        if (threads > 0) torch.set_num_threads(threads);
    }

    /// <summary>
    /// Limits the calling thread to <see cref="MhcRuntimeOptions.SingleRowScoringThreads"/> intra-op threads until the
    /// result is disposed: wrap each single-row forward pass in it.
    /// </summary>
    public static IntraOpThreadLimit EnterSingleRowScoring() => IntraOpThreadLimit.Enter(runtimeOptions.SingleRowScoringThreads);

    /// <summary>
    /// Lets the calling thread's intra-op team follow the CPUs other processes leave free, up to its current count,
    /// until the result is disposed (inert when <see cref="MhcRuntimeOptions.AdaptThreadsToLoad"/> is false): enter it
    /// around a training loop and call <see cref="LoadAdaptiveThreads.Tick"/> every step.
    /// </summary>
    public static LoadAdaptiveThreads EnterLoadAdaptiveThreads() => LoadAdaptiveThreads.Enter(runtimeOptions.AdaptThreadsToLoad);

    private static int IntraOpThreadsFor(MhcRuntimeOptions options) => options.IntraOpThreadsFor(libTorchDefaultThreads, Environment.ProcessorCount);

    private static string Threading(MhcRuntimeOptions options) =>
        $"{waitOutcome}; {IntraOpThreadsFor(options)} intra-op threads " +
        $"({(options.IntraOpThreads > 0 ? "set" : $"{Environment.ProcessorCount} CPUs available")}); single-row scoring " +
        (options.SingleRowScoringThreads > 0 ? $"at most {options.SingleRowScoringThreads} thread(s)" : "not limited") +
        (options.AdaptThreadsToLoad ? "; training threads follow the CPUs other processes leave free" : "; training threads fixed");

    /// <summary>
    /// Resolves a device name: <c>auto</c> (CUDA when available, else CPU), <c>cpu</c>, <c>cuda</c>
    /// or <c>cuda:N</c>.
    /// </summary>
    /// <exception cref="ArgumentException">CUDA was asked for but is not available.</exception>
    public static torch.Device ResolveDevice(string? device)
    {
        var env = EnsureTorch();
        var name = string.IsNullOrWhiteSpace(device) ? "auto" : device.Trim().ToLowerInvariant();
        if (name == "auto") return env.CudaAvailable ? torch.CUDA : torch.CPU;
        if (name.StartsWith("cuda", StringComparison.Ordinal) && !env.CudaAvailable)
            throw new ArgumentException(
                $"Device '{device}' was requested but CUDA is not available (backend: {env}). Build with " +
                "-p:MhcTorchBackend=cuda-linux (or cuda-windows) on a machine with an NVIDIA driver, or use 'cpu'.", nameof(device));
        return torch.device(name);
    }

    /// <summary>Runs the native preparation as soon as any type of this assembly is used.</summary>
    /// <remarks>A library module initializer is deliberate: user code that only news up our layers
    /// must not hit TorchSharp's static constructor before the patched native is in place.</remarks>
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PrepareOnLoad()
    {
        try
        {
            runtimeOptions = MhcRuntimeOptions.FromEnvironment();
        }
        catch (ArgumentException e)
        {
            runtimeOptionsError = e.Message; // reported by EnsureTorch: an initializer must not throw
        }
        // Before the native library loads: the OpenMP runtime reads its wait settings once, when it loads.
        waitOutcome = OpenMPRuntime.ApplyWaitPolicy(runtimeOptions.WorkerWait);
        LibTorchSharpLoader.Prepare();
    }
}
