using Mhc.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StabilityBenchmark;

/// <summary>
/// The benchmark network: 784 pixels -> Linear embed -> <c>depth</c> pre-norm MLP blocks
/// (LayerNorm, Linear w->2w, GELU, Linear 2w->w) joined by residual, HC or mHC connections -> LayerNorm -> 10 logits.
/// Built from one seed, so all three kinds share the same embed, head and branch weights at init.
/// </summary>
public sealed class DeepStack : Module<Tensor, Tensor>
{
    private readonly Linear embed;
    private readonly HyperSequential body;
    private readonly LayerNorm norm;
    private readonly Linear head;

    /// <summary>Builds the stack for <paramref name="kind"/>.</summary>
    public DeepStack(ConnectionKind kind, BenchmarkSettings s, int inputs, int classes) : base($"stack_{kind}".ToLowerInvariant())
    {
        TorchSharp.torch.random.manual_seed(s.Seed);
        embed = Linear(inputs, s.Width);
        head = Linear(s.Width, classes);
        norm = LayerNorm(s.Width);
        // All branches first, then the connections: the mixing parameters (random Phi for mHC) draw from
        // the generator after the branches, so the branches are identical across the three kinds.
        var branches = Enumerable.Range(0, s.Depth)
            .Select(i => (Module<Tensor, Tensor>)Sequential(
                ("norm", LayerNorm(s.Width)), ("fc1", Linear(s.Width, 2 * s.Width)), ("act", GELU()), ("fc2", Linear(2 * s.Width, s.Width))))
            .ToList();
        var options = new HyperConnectionOptions
        {
            Dim = s.Width,
            Kind = kind,
            Streams = kind == ConnectionKind.Residual ? 1 : s.Streams,
        };
        body = HyperSequential.FromBranches("body", branches, options);
        Kind = kind;
        RegisterComponents();
    }

    /// <summary>The connection kind.</summary>
    public ConnectionKind Kind { get; }

    /// <summary>The hyper-connected blocks.</summary>
    public HyperSequential Body => body;

    /// <summary>Embedded inputs, (B, w): the state entering the stack.</summary>
    public Tensor Embed(Tensor pixels) => embed.forward(pixels);

    /// <inheritdoc />
    public override Tensor forward(Tensor pixels) => head.forward(norm.forward(body.forward(embed.forward(pixels))));
}
