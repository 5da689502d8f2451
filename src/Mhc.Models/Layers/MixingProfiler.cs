using System.Diagnostics;
using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>
/// Attributes the time of forward and backward passes to the sections of a hyper-connected network:
/// <see cref="PhiNorm"/> (the dynamic projection and its RMS norm, with the gates and activations),
/// <see cref="Sinkhorn"/> (the residual constraint), <see cref="Mixing"/> (reading the branch input out of
/// the streams and writing its output back), <see cref="Branch"/> (the sublayer F) and everything else.
/// For benchmarks and investigations; off (and free) unless a session is started.
/// </summary>
/// <remarks>
/// Forward sections are timed inline (CPU ops run synchronously). Backward sections are timed by identity
/// autograd nodes placed on each section's inputs: when one runs, the time since the previous such event is
/// charged to its section. libtorch runs the ready backward nodes of a CPU graph on the calling thread, later-
/// created first, so each section's backward runs as one stretch and the attribution is close; the markers
/// themselves cost a few microseconds each, so a profiled pass is slower than an unprofiled one. One session
/// at a time, on the thread that runs the passes.
/// </remarks>
public sealed class MixingProfiler : IDisposable
{
    /// <summary>Section name of the dynamic projection, its norm, gates and activations.</summary>
    public const string PhiNorm = "phi_norm";

    /// <summary>Section name of the Sinkhorn projection (with the logit bound).</summary>
    public const string Sinkhorn = "sinkhorn";

    /// <summary>Section name of the stream read-out (H_pre) and write-in (H_res, H_post).</summary>
    public const string Mixing = "mixing";

    /// <summary>Section name of the branch F.</summary>
    public const string Branch = "branch";

    /// <summary>Section name of the time between a hyper-connection's output and the next section in backward.</summary>
    public const string Other = "other";

    private static MixingProfiler? active;

    private readonly Dictionary<string, double> forward = new();
    private readonly Dictionary<string, double> backward = new();
    private readonly Stack<(string Name, long Start)> open = new();
    private long lastBackwardEvent;
    private bool inBackward;

    private MixingProfiler()
    {
    }

    /// <summary>The running session, or null.</summary>
    public static MixingProfiler? Active => active;

    /// <summary>Starts a session; dispose it to stop.</summary>
    /// <exception cref="InvalidOperationException">A session is already running.</exception>
    public static MixingProfiler Start()
    {
        var session = new MixingProfiler();
        if (Interlocked.CompareExchange(ref active, session, null) is not null)
            throw new InvalidOperationException("A mixing profiler session is already running; dispose it first.");
        return session;
    }

    /// <summary>Forward milliseconds per section since the last <see cref="Reset"/> (exclusive of nested sections).</summary>
    public IReadOnlyDictionary<string, double> ForwardMilliseconds => forward;

    /// <summary>Backward milliseconds per section since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<string, double> BackwardMilliseconds => backward;

    /// <summary>Clears the accumulated times.</summary>
    public void Reset()
    {
        forward.Clear();
        backward.Clear();
        open.Clear();
    }

    /// <summary>Marks the start of a backward pass (call just before <c>loss.backward()</c>).</summary>
    public void BeginBackward()
    {
        inBackward = true;
        lastBackwardEvent = Stopwatch.GetTimestamp();
    }

    /// <summary>Marks the end of a backward pass (call just after <c>loss.backward()</c>).</summary>
    public void EndBackward() => inBackward = false;

    /// <inheritdoc />
    public void Dispose() => Interlocked.CompareExchange(ref active, null, this);

    /// <summary>Times a forward section until the returned value is disposed; no-op without a session.</summary>
    internal static SectionScope Section(string name)
    {
        var session = active;
        if (session is null) return default;
        long now = Stopwatch.GetTimestamp();
        if (session.open.TryPeek(out var parent))
            Charge(session.forward, parent.Name, now - parent.Start);
        session.open.Push((name, now));
        return new SectionScope(session);
    }

    /// <summary>
    /// Returns <paramref name="input"/> through an identity autograd node that, in backward, charges the time
    /// since the previous backward event to <paramref name="section"/>; the input itself without a session
    /// or when no gradient flows.
    /// </summary>
    internal static Tensor Mark(Tensor input, string section)
    {
        if (active is null || !input.requires_grad || !is_grad_enabled()) return input;
        return ProfileMarkFunction.apply(input, section);
    }

    /// <summary>
    /// Charges <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks) measured inside a fused kernel to
    /// <paramref name="section"/>, and takes them off the section that encloses the kernel, so that a kernel which
    /// does several sections' work in one pass still shows where its time goes.
    /// </summary>
    internal static void Attribute(string section, long ticks)
    {
        var session = active;
        if (session is null || ticks <= 0) return;
        if (session.inBackward)
        {
            Charge(session.backward, section, ticks);
            session.lastBackwardEvent += ticks;
        }
        else
        {
            Charge(session.forward, section, ticks);
            if (session.open.TryPop(out var enclosing)) session.open.Push((enclosing.Name, enclosing.Start + ticks));
        }
    }

    internal void OnBackward(string section)
    {
        long now = Stopwatch.GetTimestamp();
        Charge(backward, section, now - lastBackwardEvent);
        lastBackwardEvent = now;
    }

    private void EndSection()
    {
        long now = Stopwatch.GetTimestamp();
        var (name, start) = open.Pop();
        Charge(forward, name, now - start);
        if (open.TryPop(out var parent)) open.Push((parent.Name, now));
    }

    private static void Charge(Dictionary<string, double> into, string name, long ticks) =>
        into[name] = into.GetValueOrDefault(name) + ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>An open forward section.</summary>
    internal readonly struct SectionScope : IDisposable
    {
        private readonly MixingProfiler? session;

        internal SectionScope(MixingProfiler session) => this.session = session;

        /// <inheritdoc />
        public void Dispose() => session?.EndSection();
    }
}
