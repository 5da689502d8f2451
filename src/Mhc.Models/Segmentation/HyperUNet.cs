using Mhc.Models.Native;
using Mhc.Models.Layers;
using Mhc.Models.Vision;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Segmentation;

/// <summary>
/// A UNet whose encoder-to-decoder skips are history-window skips: each decoder level adds a learned,
/// constrained mixture of the last H encoder states (its own resolution and the finer ones before it),
/// auto-projected to its size and channels, instead of concatenating the one encoder map of its resolution.
/// Inside every level, residual blocks are hyper-connections over n streams (a Hyper-ResNet body); the encoder's and
/// the decoder's blocks are each a <see cref="HyperSequential"/> trunk, run one level at a time.
/// With <see cref="ConnectionKind.Residual"/> it is an ordinary residual UNet with concatenation skips.
/// Input (B, C, H, W) float32 with H, W multiples of 2^Depth; output per-pixel class logits (B, classes, H, W).
/// </summary>
/// <remarks>
/// <para>
/// Level i runs at 1/2^i of the input resolution with BaseWidth * 2^i channels. The encoder's streams persist
/// from the stem to the bottleneck, as in a Hyper-ResNet; the state e_i handed to the skips is the collapse of
/// the streams at the end of level i. The decoder upsamples the streams, adds the skip
/// x_i = up(x_(i+1)) + g sum_k alpha_k P_k(e_k) (the history-window skip with f = up) to every stream, runs its
/// blocks, and the streams are collapsed once before the 1x1 classifier.
/// </para>
/// <para>
/// Building the network changes no process state. Before training it on the CPU with a loop of your own, call
/// <see cref="Native.ConvolutionBackendCheck.EnsureCorrectGradients"/> on it once: some CPUs' oneDNN kernels return wrong
/// input gradients for convolutions whose channel count is not a multiple of 16 (the ML.NET trainers do this for you).
/// </para>
/// </remarks>
public sealed class HyperUNet : Module<Tensor, Tensor>
{
    // The encoder and the decoder are each one HyperSequential trunk, run a level at a time: between levels the
    // encoder hands its state to the skips and the decoder upsamples and adds them. One trunk each (not one per
    // level) keeps the blocks' parameter names (encoder.k, decoder.k) those of saved models.
    private readonly Conv2d stem;
    private readonly HyperSequential encoder;
    private readonly ModuleList<StreamCollapse> encoder_states;
    private readonly ModuleList<StreamwiseUpsample> up;
    private readonly ModuleList<ConvUnit> fuse;
    private readonly ModuleList<HistoryWindowSkip> skips;
    private readonly HyperSequential decoder;
    private readonly BatchNorm2d head_bn;
    private readonly Conv2d classifier;

    /// <summary>Builds the network from <paramref name="options"/> (validated; copied).</summary>
    public HyperUNet(HyperUNetOptions options, string name = "hyper_unet") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options.Clone();
        int n = Options.Mixing.Streams, depth = Options.Depth;
        var blocks = new BlockFactory(Options);

        stem = Conv2d(Options.InChannels, Width(0), 3, padding: 1, bias: false);
        var encoderBlocks = new List<Module<Tensor, Tensor>>();
        encoder_states = new ModuleList<StreamCollapse>();
        for (int level = 0; level <= depth; level++)
        {
            for (int b = 0; b < Options.BlocksPerStage; b++)
            {
                bool down = level > 0 && b == 0;
                encoderBlocks.Add(blocks.Create(down ? Width(level - 1) : Width(level), Width(level), down ? 2 : 1));
            }
            if (level < depth) encoder_states.Add(new StreamCollapse(n, Options.Collapse, $"state{level}"));
        }
        // The encoder's streams go on into the decoder, so its own collapse is never used (the mean has no parameters).
        encoder = new HyperSequential("encoder", n, encoderBlocks, StreamCollapseMode.Mean, scopeEachLayer: true);

        up = new ModuleList<StreamwiseUpsample>();
        fuse = new ModuleList<ConvUnit>();
        skips = new ModuleList<HistoryWindowSkip>();
        var decoderBlocks = new List<Module<Tensor, Tensor>>();
        for (int level = depth - 1; level >= 0; level--)
        {
            up.Add(new StreamwiseUpsample(Width(level + 1), Width(level), $"up{level}"));
            if (Options.Mixing.Connection == ConnectionKind.Residual)
                fuse.Add(new ConvUnit(2 * Width(level), Width(level), name: $"fuse{level}"));
            else
                skips.Add(Skip(level));
            for (int b = 0; b < Options.BlocksPerStage; b++)
                decoderBlocks.Add(blocks.Create(Width(level), Width(level), 1));
        }
        decoder = new HyperSequential("decoder", n, decoderBlocks, Options.Collapse, scopeEachLayer: true);
        head_bn = BatchNorm2d(Width(0));
        classifier = Conv2d(Width(0), Options.NumClasses, 1);
        RegisterComponents();
    }

    private int Width(int level) => Options.BaseWidth << level;

    /// <summary>
    /// The history-window skip of decoder level <paramref name="level"/>: a constrained mixture of the encoder states of
    /// its own resolution and the H - 1 finer ones before it.
    /// </summary>
    private HistoryWindowSkip Skip(int level)
    {
        var skipOptions = new HistoryWindowSkipOptions
        {
            MaxHistory = Options.MaxHistory,
            Constraint = Options.Mixing.EffectiveConstraint,
            LearnedGate = Options.LearnedSkipGate,
            DetachHistory = Options.DetachHistory,
            AutoProject = true,
        };
        // Reference spatial sizes: only the ratios between levels matter to the skips' projections.
        long[] StateShape(int l) => [Width(l), 1L << (Options.Depth - l), 1L << (Options.Depth - l)];
        int first = Math.Max(0, level - Options.MaxHistory + 1);
        var window = Enumerable.Range(first, level - first + 1).Select(StateShape).ToList();
        return new HistoryWindowSkip($"skip{level}", skipOptions, StateShape(level), window);
    }

    /// <summary>Makes the hyper-connected residual blocks in depth order (so their home streams rotate, as in HC).</summary>
    private sealed class BlockFactory(HyperUNetOptions options)
    {
        // The channel count changes per level; each block's WithLayer sets it.
        private readonly HyperConnectionOptions connection = options.Mixing.ToConnection(options.BaseWidth, StreamFeatureLayout.ChannelsFirst);
        private int layer;

        public HyperConnection Create(int inChannels, int outChannels, int stride)
        {
            var branch = new BasicBlock(inChannels, outChannels, stride, "branch");
            Module<Tensor, Tensor>? projection = stride != 1 || inChannels != outChannels
                ? Conv2d(inChannels, outChannels, 1, stride: stride, bias: false)
                : null;
            var hc = new HyperConnection($"block{layer}", branch, connection.WithLayer(layer, inChannels), projection);
            layer++;
            return hc;
        }
    }

    /// <summary>The configuration this network was built with.</summary>
    public HyperUNetOptions Options { get; }

    /// <summary>All hyper-connections, encoder first, in depth order (for diagnostics).</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => encoder.HyperConnections.Concat(decoder.HyperConnections).ToList();

    /// <summary>The decoder skips, coarsest level first (empty for <see cref="ConnectionKind.Residual"/>).</summary>
    public IReadOnlyList<HistoryWindowSkip> HistorySkips => skips.ToList();

    /// <summary>Throws an <see cref="ArgumentException"/> that says what is wrong unless <paramref name="images"/> fits the network.</summary>
    public void ValidateInput(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int m = Options.SizeMultiple;
        string expected = $"{GetName()} expects images (B, {Options.InChannels}, H, W) with H and W multiples of {m} (2^Depth, Depth = {Options.Depth})";
        if (images.dim() != 4 || images.shape[1] != Options.InChannels)
            throw new ArgumentException($"{expected}; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[2] % m != 0 || images.shape[3] % m != 0 || images.shape[2] == 0 || images.shape[3] == 0)
            throw new ArgumentException($"{expected}; got {images.shape[2]}x{images.shape[3]}. Pad or resize the images.", nameof(images));
        if (!images.is_floating_point())
            throw new ArgumentException($"{expected} as floating point; got {images.dtype}.", nameof(images));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor images)
    {
        ValidateInput(images);
        int depth = Options.Depth;
        int perLevel = Options.BlocksPerStage;
        var streams = encoder.Expand.forward(stem.forward(images));
        var states = new List<Tensor>(depth);
        for (int level = 0; level <= depth; level++)
        {
            streams = encoder.ForwardLayers(streams, level * perLevel, perLevel);
            if (level < depth) states.Add(encoder_states[level].forward(streams));
        }

        for (int j = 0; j < depth; j++)
        {
            int level = depth - 1 - j;
            streams = up[j].forward(streams);
            if (Options.Mixing.Connection == ConnectionKind.Residual)
            {
                var joined = cat([streams.select(1, 0), states[level]], 1);
                streams = fuse[j].forward(joined).unsqueeze(1);
            }
            else
            {
                var skip = skips[j];
                var window = states.GetRange(level - skip.StateCount + 1, skip.StateCount);
                // x_i = up(x_(i+1)) + g sum_k alpha_k P_k(e_k), added to every stream so that identical
                // streams stay identical and the mean collapse sees the skip once.
                streams = streams + skip.Mix(window).unsqueeze(1);
            }
            streams = decoder.ForwardLayers(streams, j * perLevel, perLevel);
        }

        var h = functional.relu(head_bn.forward(decoder.Collapse.forward(streams)));
        return classifier.forward(h);
    }
}
