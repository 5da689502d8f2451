using System.Diagnostics;
using TorchSharp;

namespace Mhc.Models.Native;

/// <summary>
/// Keeps the calling thread's intra-op team no larger than the CPUs other processes leave free, for the length of a
/// <c>using</c> block: a training loop enters it once and calls <see cref="Tick"/> once per step. Every quarter of a
/// second it reads how many CPUs other processes kept busy (<c>/proc/stat</c>); when two readings in a row ask for
/// another team size it switches (so a change of load is followed within about half a second), never above the
/// thread count the block started with.
/// </summary>
/// <remarks>
/// <para>
/// Why: libtorch runs every CPU kernel as an OpenMP parallel region that ends in a barrier. When a neighbour keeps
/// one of two cores busy, a two-thread team makes every region wait until the scheduler gives the second worker a
/// slice; measured on the main job's Hyper-ResNet on 2 cores, a training step took 2.8x its idle time with two
/// threads and 1.6x with one. A fair share of half the machine costs 2x, and one thread on the free core gets it.
/// </para>
/// <para>
/// The team size is set for the calling thread only (OpenMP's and MKL's per-thread counts, as in
/// <see cref="IntraOpThreadLimit"/>), so other threads of the process are not affected. Results of a parallel
/// reduction can differ in the last bits between team sizes: a seeded run is bitwise reproducible when it runs on
/// the same number of threads throughout, so fix the count (<c>NumberOfThreads</c>, or
/// <see cref="MhcRuntimeOptions.AdaptThreadsToLoad"/> = false) where that matters more than speed under load.
/// Inert where the figures cannot be attributed to this process's CPUs (not Linux, a CPU quota or affinity subset;
/// see <see cref="CpuShareSampler"/>) or where the team is one thread already.
/// </para>
/// </remarks>
public sealed class LoadAdaptiveThreads : IDisposable
{
    /// <summary>How often the load is read.</summary>
    internal static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Readings in a row that must ask for the same new team size before it is applied (damps a passing spike).</summary>
    internal const int AgreeingSamples = 2;

    private readonly Func<double?>? othersBusy;
    private readonly int cpus;
    private readonly int ceiling;
    private readonly Action<int> apply;
    private long lastSample = Stopwatch.GetTimestamp();
    private int pending, agreeing;
    private int restoreMkl = -1;

    internal LoadAdaptiveThreads(Func<double?>? othersBusy, int cpus, int ceiling, Action<int>? apply = null)
    {
        this.othersBusy = othersBusy;
        this.cpus = cpus;
        this.ceiling = Threads = ceiling;
        this.apply = apply ?? SetThisThread;
    }

    /// <summary>
    /// Starts following the load on the calling thread, up to its current intra-op thread count; inert when
    /// <paramref name="enabled"/> is false (see the remarks for where else it is inert).
    /// </summary>
    public static LoadAdaptiveThreads Enter(bool enabled)
    {
        MhcEnvironment.EnsureTorch();
        // Also runs ATen's once-per-thread setup, which would otherwise overwrite a team size set before the first parallel op.
        int ceiling = torch.get_num_threads();
        var sampler = enabled && ceiling > 1 && OpenMPRuntime.CanSetThreadTeamSize ? CpuShareSampler.TryCreate() : null;
        return sampler is null
            ? new LoadAdaptiveThreads(null, Environment.ProcessorCount, ceiling)
            : new LoadAdaptiveThreads(sampler.OthersBusySinceLast, sampler.Cpus, ceiling);
    }

    /// <summary>Whether the team size follows the load.</summary>
    public bool Active => othersBusy is not null;

    /// <summary>The calling thread's team size now.</summary>
    public int Threads { get; private set; }

    /// <summary>How many times the team size changed.</summary>
    public int Changes { get; private set; }

    /// <summary>Reads the load if a quarter of a second has passed since the last reading, and adapts the team. Cheap otherwise: call it every step.</summary>
    public void Tick()
    {
        if (othersBusy is null || Stopwatch.GetElapsedTime(lastSample) < SampleInterval) return;
        lastSample = Stopwatch.GetTimestamp();
        if (othersBusy() is { } others) Observe(others);
    }

    /// <summary>The team size for <paramref name="othersBusyCpus"/> CPUs kept busy by other processes: the CPUs left, rounded, at least 1, at most <paramref name="ceiling"/>.</summary>
    internal static int TargetThreads(double othersBusyCpus, int cpus, int ceiling) =>
        Math.Clamp((int)Math.Floor(cpus - othersBusyCpus + 0.5), 1, ceiling);

    /// <summary>Takes one reading into account.</summary>
    internal void Observe(double othersBusyCpus)
    {
        int target = TargetThreads(othersBusyCpus, cpus, ceiling);
        if (target == Threads)
        {
            agreeing = 0;
            return;
        }
        agreeing = target == pending ? agreeing + 1 : 1;
        pending = target;
        if (agreeing < AgreeingSamples) return;
        apply(target);
        Threads = target;
        agreeing = 0;
        Changes++;
    }

    /// <summary>Puts the thread's team size back to what it was when the block started.</summary>
    public void Dispose()
    {
        if (Threads == ceiling) return;
        apply(ceiling);
        Threads = ceiling;
        if (restoreMkl >= 0) MklThreads.SetForThisThread(restoreMkl);
    }

    private void SetThisThread(int threads)
    {
        OpenMPRuntime.SetThreadsOfThisThread(threads);
        int previous = MklThreads.SetForThisThread(threads);
        if (restoreMkl < 0) restoreMkl = previous;
    }
}
