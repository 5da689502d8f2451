using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// A hyper-connected stack: expands its input to n streams once, threads the streams through its
/// layers and collapses them once at the end, (B, *features) to (B, *features'). This is the network
/// shape of HC (arXiv 2409.19606, sec. 2) and mHC (arXiv 2512.24880, sec. 3): the embedding is
/// repeated n times, the streams persist across all blocks, and they are reduced before the head.
/// </summary>
/// <remarks>
/// Every layer must be stream-aware, i.e. map (B, n, *features) to (B, n, *features'):
/// <see cref="HyperConnection"/>, <see cref="PerStream"/> around a single-stream module, or any module
/// of yours with that contract. With n = 1 (<see cref="ConnectionKind.Residual"/>) the stack computes
/// exactly what the same blocks do as a plain residual network.
/// <para>
/// The layers are registered by index directly under the stack (<c>name.0</c>, <c>name.1</c>, ...), so a network
/// that keeps its trunk in a field <c>blocks</c> has the parameter names of a plain <c>ModuleList</c> of blocks.
/// </para>
/// </remarks>
public sealed class HyperSequential : Module<Tensor, Tensor>
{
    private readonly StreamExpand expand;
    private readonly Module<Tensor, Tensor>[] layers;
    private readonly StreamCollapse collapse;
    private readonly bool scopeEachLayer;

    /// <summary>Creates the stack from stream-aware layers.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="streams">Expansion rate n (1 for a plain residual stack).</param>
    /// <param name="layers">Stream-aware layers in order; each hyper-connection must have <paramref name="streams"/> streams.</param>
    /// <param name="collapseMode">How the streams are reduced at the end. Default mean (identical streams collapse to themselves).</param>
    /// <param name="scopeEachLayer">
    /// Runs every layer in its own dispose scope (<see cref="ScopedForward"/>), so that its temporaries are freed as soon
    /// as it returns; for convolutional trunks whose n-stream copies at full resolution dominate the memory. Default false.
    /// </param>
    public HyperSequential(string name, int streams, IEnumerable<Module<Tensor, Tensor>> layers, StreamCollapseMode collapseMode = StreamCollapseMode.Mean,
        bool scopeEachLayer = false)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (streams < 1) throw new ArgumentOutOfRangeException(nameof(streams), streams, "At least one stream.");
        var list = layers.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is null) throw new ArgumentNullException(nameof(layers), $"Layer {i} of {name} is null.");
            if (list[i] is HyperConnection hc && hc.Options.Streams != streams)
                throw new ArgumentException(
                    $"Layer {i} ({hc.GetName()}) of {name} has {hc.Options.Streams} streams; the stack has {streams}.", nameof(layers));
        }
        Streams = streams;
        this.scopeEachLayer = scopeEachLayer;
        expand = new StreamExpand(streams);
        this.layers = list.ToArray();
        collapse = new StreamCollapse(streams, collapseMode);
        register_module("expand", expand);
        for (int i = 0; i < this.layers.Length; i++) register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), this.layers[i]);
        register_module("collapse", collapse);
    }

    /// <summary>
    /// Builds a stack of hyper-connections, one around each branch, with layer indices 0, 1, ... (so the
    /// home streams rotate as in HC) and the stream count taken from <paramref name="options"/>.
    /// </summary>
    /// <param name="name">Module name.</param>
    /// <param name="branches">The branches F_l in depth order; each maps (B, *features) to the same shape.</param>
    /// <param name="options">Connection template; <see cref="HyperConnectionOptions.Dim"/> must be the branches' channel count.</param>
    /// <param name="collapseMode">How the streams are reduced at the end.</param>
    public static HyperSequential FromBranches(string name, IEnumerable<Module<Tensor, Tensor>> branches, HyperConnectionOptions options,
        StreamCollapseMode collapseMode = StreamCollapseMode.Mean)
    {
        ArgumentNullException.ThrowIfNull(branches);
        ArgumentNullException.ThrowIfNull(options);
        var hcs = branches.Select((b, i) => (Module<Tensor, Tensor>)new HyperConnection($"block{i}", b, options.WithLayer(i))).ToList();
        return new HyperSequential(name, options.Streams, hcs, collapseMode);
    }

    /// <summary>The expansion rate n.</summary>
    public int Streams { get; }

    /// <summary>The stream-aware layers, in order.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Layers => Array.AsReadOnly(layers);

    /// <summary>
    /// The hyper-connections of <see cref="Layers"/>, in depth order (for diagnostics): the layers that are one, and
    /// those inside layers made of several (a transformer block's attention and MLP).
    /// </summary>
    public IReadOnlyList<HyperConnection> HyperConnections =>
        layers.SelectMany(l => l is HyperConnection hc ? [hc] : l.modules().OfType<HyperConnection>()).ToList();

    /// <summary>The stream reduction applied at the end.</summary>
    public StreamCollapse Collapse => collapse;

    /// <summary>The expansion to n streams applied at the start.</summary>
    public StreamExpand Expand => expand;

    /// <summary>Runs the layers and returns the streams before the collapse, (B, n, *features').</summary>
    public Tensor ForwardStreams(Tensor x)
    {
        if (x.dim() < 2)
            throw new ArgumentException($"{GetName()} expects a batch (B, *features); got shape [{string.Join(", ", x.shape)}].", nameof(x));
        if (layers.Length == 0 || layers[0] is not HyperConnection first) return ForwardLayers(expand.forward(x), 0, layers.Length);
        // The first block reads the n copies the expansion would make from x itself where it can (SharedStreams).
        var streams = scopeEachLayer ? ScopedForward.Apply(x, h => first.ForwardShared(h, expand.forward)) : first.ForwardShared(x, expand.forward);
        CheckStreams(0, first, streams);
        return ForwardLayers(streams, 1, layers.Length - 1);
    }

    /// <summary>
    /// Runs <paramref name="count"/> layers from <paramref name="start"/> on streams already expanded, (B, n, *features),
    /// and returns the streams (no collapse): for networks that act between parts of their trunk, as a UNet's encoder
    /// hands its state to the skips at the end of every level.
    /// </summary>
    public Tensor ForwardLayers(Tensor streams, int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > layers.Length)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{GetName()} has {layers.Length} layers; asked for {start}..{start + count - 1}.");
        for (int i = start; i < start + count; i++)
        {
            var layer = layers[i];
            streams = scopeEachLayer ? ScopedForward.Apply(layer, streams) : layer.forward(streams);
            CheckStreams(i, layer, streams);
        }
        return streams;
    }

    private void CheckStreams(int index, Module layer, Tensor streams)
    {
        if (streams.dim() < 3 || streams.shape[1] != Streams)
            throw new InvalidOperationException(
                $"Layer {index} ({layer.GetName()}) of {GetName()} returned shape [{string.Join(", ", streams.shape)}]; " +
                $"stream-aware layers must return (B, {Streams}, *features). Wrap single-stream modules in {nameof(PerStream)}.");
    }

    /// <summary>
    /// The stack on a token sequence (B, T, C) whose streams are kept as token rows (B T, n, C) between the layers:
    /// the layout the per-token mixing (mHC eq. 5-7) reads them in, so no layer changes layout (streams (B, n, T, C)
    /// would need a transpose per sublayer). Every layer must run on rows (<see cref="HyperConnection"/>,
    /// <c>HyperTransformerBlock</c>). Same result as <see cref="forward"/>.
    /// </summary>
    internal Tensor ForwardTokenRows(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        var flat = x.reshape(b * t, c);
        Tensor? rows = null;                                          // (B T, n, C)
        foreach (var layer in layers)
        {
            if (layer is not ITokenRowsLayer r)
                throw new InvalidOperationException($"Layer {layer.GetName()} of {GetName()} cannot run on token rows.");
            // The first layer reads the n copies the expansion would make from x itself where it can (SharedStreams).
            rows = rows is null ? r.ForwardSharedRows(flat, b, expand.forward) : r.ForwardRows(rows, b);
        }
        rows ??= expand.forward(flat);
        return collapse.forward(rows).view(b, t, c);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => collapse.forward(ForwardStreams(x));
}
