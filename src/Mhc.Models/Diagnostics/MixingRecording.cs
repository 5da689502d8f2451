using Mhc.Models.Layers;

namespace Mhc.Models.Diagnostics;

/// <summary>
/// Turns mixing recording on for a set of hyper-connections for the lifetime of the scope, then
/// restores each connection's previous setting. Recording is off by default and costs nothing then
/// (one flag test per forward pass), so a training loop records only the batches it inspects:
/// <code>
/// using (var rec = MixingRecording.Start(model.HyperConnections)) { model.forward(batch); var d = rec.Collect(); }
/// </code>
/// </summary>
public sealed class MixingRecording : IDisposable
{
    private readonly List<(HyperConnection Layer, bool Was)> layers;
    private bool disposed;

    private MixingRecording(IEnumerable<HyperConnection> layers)
    {
        this.layers = layers.Select(l => (l, l.RecordDiagnostics)).ToList();
        foreach (var (l, _) in this.layers) l.RecordDiagnostics = true;
    }

    /// <summary>Starts recording on <paramref name="layers"/> (in depth order).</summary>
    public static MixingRecording Start(IEnumerable<HyperConnection> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return new MixingRecording(layers);
    }

    /// <summary>Diagnostics of the forward pass(es) run inside the scope (the last one per layer).</summary>
    public MixingDiagnostics Collect()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return MixingDiagnostics.Collect(layers.Select(l => l.Layer));
    }

    /// <summary>Restores each connection's recording flag.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var (l, was) in layers) l.RecordDiagnostics = was;
    }
}
