using Mhc.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Samples.Networks;

/// <summary>How the blocks of a <see cref="DeepStack"/> are joined: a hyper-connection (residual, HC, mHC and their
/// presets) or the history-window skip. Exactly one of the two option objects is set.</summary>
/// <param name="Label">Short name for logs, charts and JSON (e.g. <c>mhc</c>).</param>
/// <param name="Hyper">Template of every block's hyper-connection (Dim is set by the stack).</param>
/// <param name="History">Options of the history-window skips.</param>
public sealed record DeepStackConnection(string Label, HyperConnectionOptions? Hyper, HistoryWindowSkipOptions? History)
{
    /// <summary>The library's default connection of <paramref name="kind"/> with <paramref name="streams"/> streams (1 for residual).</summary>
    public static DeepStackConnection For(ConnectionKind kind, int streams = 4) =>
        new(kind.ToString().ToLowerInvariant(), new HyperConnectionOptions { Mixing = new() { Connection = kind, ExpansionRate = kind == ConnectionKind.Residual ? 1 : streams }}, null);

    /// <summary>A history-window stack with <paramref name="options"/>.</summary>
    public static DeepStackConnection Skip(string label, HistoryWindowSkipOptions options) => new(label, null, options);
}

/// <summary>
/// A deep pre-norm MLP on flat inputs: Linear embed -> <c>depth</c> blocks (LayerNorm, Linear w->2w, GELU,
/// Linear 2w->w) joined by residual, HC, mHC or history-window connections -> LayerNorm -> class logits.
/// Built from one seed, so every connection shares the same embed, head and branch weights at init.
/// </summary>
public sealed class DeepStack : Module<Tensor, Tensor>
{
    private readonly Linear embed;
    private readonly HyperSequential? body;
    private readonly HistoryWindowSkipStack? history;
    private readonly LayerNorm norm;
    private readonly Linear head;

    /// <summary>Builds the stack.</summary>
    /// <param name="connection">How blocks are joined.</param>
    /// <param name="depth">Number of blocks.</param>
    /// <param name="width">Features per state (per stream for HC/mHC).</param>
    /// <param name="seed">Seed of all initial weights.</param>
    /// <param name="inputs">Input features.</param>
    /// <param name="classes">Output classes.</param>
    public DeepStack(DeepStackConnection connection, int depth, int width, int seed, int inputs, int classes)
        : base($"stack_{connection?.Label}")
    {
        ArgumentNullException.ThrowIfNull(connection);
        if ((connection.Hyper is null) == (connection.History is null))
            throw new ArgumentException("A connection sets exactly one of Hyper and History.", nameof(connection));
        TorchSharp.torch.random.manual_seed(seed);
        embed = Linear(inputs, width);
        head = Linear(width, classes);
        norm = LayerNorm(width);
        // All branches first, then the connections: the mixing parameters (random Phi for mHC) draw from
        // the generator after the branches, so the branches are identical across connections.
        var branches = Enumerable.Range(0, depth)
            .Select(i => (Module<Tensor, Tensor>)Sequential(
                ("norm", LayerNorm(width)), ("fc1", Linear(width, 2 * width)), ("act", GELU()), ("fc2", Linear(2 * width, width))))
            .ToList();
        if (connection.Hyper is { } hyper)
        {
            var options = hyper.WithLayer(0, width);
            body = HyperSequential.FromBranches("body", branches, options);
            Kind = options.Mixing.Connection;
        }
        else
        {
            history = new HistoryWindowSkipStack("history", branches, [width], connection.History!);
        }
        Connection = connection;
        Depth = depth;
        RegisterComponents();
    }

    /// <summary>How the blocks are joined.</summary>
    public DeepStackConnection Connection { get; }

    /// <summary>The hyper-connection kind, or null for a history-window stack.</summary>
    public ConnectionKind? Kind { get; }

    /// <summary>Number of blocks.</summary>
    public int Depth { get; }

    /// <summary>The hyper-connected blocks (null for a history-window stack).</summary>
    public HyperSequential? Body => body;

    /// <summary>The history-window stack (null for hyper-connections).</summary>
    public HistoryWindowSkipStack? History => history;

    /// <summary>The hyper-connections in depth order (empty for a history-window stack).</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => body?.HyperConnections ?? [];

    /// <summary>Parameters of each block in depth order: the branch and its connection (mixing, skip weights, gate).</summary>
    public IReadOnlyList<IReadOnlyList<Parameter>> BlockParameters() => body is not null
        ? body.HyperConnections.Select(h => (IReadOnlyList<Parameter>)h.parameters().ToList()).ToList()
        : history!.Layers.Zip(history.Skips, (f, s) => (IReadOnlyList<Parameter>)f.parameters().Concat(s.parameters()).ToList()).ToList();

    /// <summary>Embedded inputs, (B, w): the state entering the stack.</summary>
    public Tensor Embed(Tensor pixels) => embed.forward(pixels);

    /// <summary>The state after the last block (the streams (B, n, w) for hyper-connections, (B, w) otherwise).</summary>
    public Tensor Blocks(Tensor embedded) => body is not null ? body.ForwardStreams(embedded) : history!.call(embedded);

    /// <inheritdoc />
    public override Tensor forward(Tensor pixels)
    {
        var x = embed.forward(pixels);
        var y = body is not null ? body.forward(x) : history!.call(x);
        return head.forward(norm.forward(y));
    }
}
