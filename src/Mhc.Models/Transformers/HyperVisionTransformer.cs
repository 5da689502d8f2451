using Mhc.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>
/// A vision transformer (ViT) whose residual connections are hyper-connections: non-overlapping patches
/// are embedded (a strided convolution) with learned positions, expanded into n streams, passed through
/// bidirectional <see cref="HyperTransformerBlock"/>s, collapsed once, normalised, mean-pooled over the
/// tokens and classified. In training a random <see cref="HyperVisionTransformerOptions.MaskRatio"/>
/// share of the patches of each image is dropped. Input (B, C, H, W) float32; output logits (B, classes).
/// </summary>
public sealed class HyperVisionTransformer : Module<Tensor, Tensor>
{
    private readonly Conv2d patch_embedding;
    private readonly Parameter position_embedding;
    private readonly Dropout embedding_dropout;
    private readonly StreamExpand expand;
    private readonly ModuleList<HyperTransformerBlock> blocks;
    private readonly StreamCollapse collapse;
    private readonly RmsNorm final_norm;
    private readonly Dropout head_dropout;
    private readonly Linear classifier;

    /// <summary>Builds the network from <paramref name="options"/> (validated).</summary>
    public HyperVisionTransformer(HyperVisionTransformerOptions options, string name = "hyper_vit") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        int n = options.EffectiveStreams;
        patch_embedding = Conv2d(options.InChannels, options.Dim, options.PatchSize, stride: options.PatchSize);
        position_embedding = new Parameter(zeros(1, options.Patches, options.Dim));
        embedding_dropout = Dropout(options.Dropout);
        expand = new StreamExpand(n);
        var connection = new HyperConnectionOptions
        {
            Dim = options.Dim,
            Streams = n,
            Kind = options.Connection,
            Dynamic = options.DynamicMixing,
            Init = options.Init,
            Layout = StreamFeatureLayout.ChannelsLast,
        };
        double outputStd = 0.02 / Math.Sqrt(2.0 * options.Layers);
        blocks = new ModuleList<HyperTransformerBlock>();
        for (int i = 0; i < options.Layers; i++)
            blocks.Add(new HyperTransformerBlock(i, options.Dim, options.Heads, options.MlpRatio, options.Dropout,
                causal: false, connection, outputStd, $"block{i}"));
        collapse = new StreamCollapse(n, options.Collapse);
        final_norm = new RmsNorm(options.Dim);
        head_dropout = Dropout(options.Dropout);
        classifier = Linear(options.Dim, options.NumClasses);
        using (no_grad())
        {
            // init.trunc_normal_ leaves the tensor at zero in TorchSharp 0.107, so a plain normal init.
            init.normal_(position_embedding, 0, 0.02);
            init.normal_(classifier.weight!, 0, 0.02);
            init.zeros_(classifier.bias!);
        }
        RegisterComponents();
    }

    /// <summary>The configuration this network was built with.</summary>
    public HyperVisionTransformerOptions Options { get; }

    /// <summary>Width of the pooled features entering the classifier.</summary>
    public int FeatureChannels => Options.Dim;

    /// <summary>The hyper-connections (attention and MLP of every block), in depth order, for diagnostics.</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => blocks.SelectMany(b => b.HyperConnections).ToList();

    /// <summary>Pooled features before the classifier, (B, <see cref="FeatureChannels"/>).</summary>
    public Tensor Features(Tensor images)
    {
        var o = Options;
        if (images.dim() != 4 || images.shape[1] != o.InChannels || images.shape[2] != o.ImageHeight || images.shape[3] != o.ImageWidth)
            throw new ArgumentException(
                $"{GetName()} expects images (B, {o.InChannels}, {o.ImageHeight}, {o.ImageWidth}); got [{string.Join(", ", images.shape)}].",
                nameof(images));
        // (B, C, H, W) -> (B, D, H/p, W/p) -> (B, P, D)
        var tokens = patch_embedding.forward(images).flatten(2).transpose(1, 2) + position_embedding;
        if (training && o.MaskRatio > 0) tokens = KeepRandomPatches(tokens, o.KeptPatches);
        var streams = expand.forward(embedding_dropout.forward(tokens));   // (B, n, P, D)
        foreach (var block in blocks) streams = block.forward(streams);
        var h = final_norm.forward(collapse.forward(streams));
        return h.mean(new long[] { 1 });
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor images) => classifier.forward(head_dropout.forward(Features(images)));

    /// <summary>A random subset of <paramref name="keep"/> patch tokens per image (positions already added).</summary>
    private static Tensor KeepRandomPatches(Tensor tokens, int keep)
    {
        long b = tokens.shape[0], p = tokens.shape[1], d = tokens.shape[2];
        if (keep >= p) return tokens;
        // The first `keep` entries of a random permutation per image, drawn from libtorch's seeded generator.
        var ids = rand(b, p, device: tokens.device).argsort(1)[.., ..keep];
        return tokens.gather(1, ids.unsqueeze(-1).expand(b, keep, d));
    }
}
