namespace Mhc.Models;

/// <summary>
/// How libtorch's idle OpenMP worker threads wait for the next parallel region (see
/// <see cref="MhcRuntimeOptions.WorkerWait"/>).
/// </summary>
public enum OpenMPWaitPolicy
{
    /// <summary>
    /// Spin a few tens of microseconds, then sleep (GNU OpenMP: <c>GOMP_SPINCOUNT=3000</c>, a hundredth of its
    /// default). As fast as the runtime's default on a free machine, since back-to-back parallel regions still find
    /// their workers awake; with a busy neighbour a waiting thread gives its core up almost at once instead of
    /// holding it for milliseconds. The default.
    /// </summary>
    Brief = 0,

    /// <summary>
    /// Sleep at once (<c>OMP_WAIT_POLICY=PASSIVE</c>, read by every OpenMP runtime). Least CPU used while waiting;
    /// every parallel region pays a thread wake-up, which makes many small operations slower on a free machine.
    /// </summary>
    Passive = 1,

    /// <summary>
    /// Set nothing: the OpenMP runtime's own default (GNU OpenMP spins about 3 ms before sleeping), or whatever
    /// <c>OMP_WAIT_POLICY</c>, <c>GOMP_SPINCOUNT</c> or <c>KMP_BLOCKTIME</c> the process environment sets. Fastest
    /// on a dedicated machine; a busy neighbour can make multi-threaded work many times slower.
    /// </summary>
    RuntimeDefault = 2,
}
