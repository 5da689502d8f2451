using Mhc.Models.Native;
using Mhc.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Vision;

/// <summary>
/// A pre-activation ResNet whose residual connections are hyper-connections: stem, a <see cref="HyperSequential"/>
/// trunk (the stem output expanded into n streams, every block a <see cref="HyperConnection"/> around a
/// <see cref="BasicBlock"/> or <see cref="Bottleneck"/> branch, the streams collapsed once) and the head.
/// With <see cref="ConnectionKind.Residual"/> it is an ordinary pre-activation ResNet.
/// Input (B, C, H, W) float32; output class logits (B, classes).
/// </summary>
/// <remarks>
/// Building the network changes no process state. Before training it on the CPU with a loop of your own, call
/// <see cref="Native.ConvolutionBackendCheck.EnsureCorrectGradients"/> on it once: some CPUs' oneDNN kernels return wrong
/// input gradients for convolutions whose channel count is not a multiple of 16 (the ML.NET trainers do this for you).
/// </remarks>
public sealed class HyperResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> stem;
    // Named blocks, so that the blocks' parameters keep the names (blocks.0, blocks.1, ...) saved models have.
    private readonly HyperSequential blocks;
    private readonly BatchNorm2d head_bn;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Builds the network from <paramref name="options"/> (validated).</summary>
    public HyperResNet(HyperResNetOptions options, string name = "hyper_resnet") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        int n = options.Mixing.Streams;
        bool large = options.LargeStem ?? Math.Min(options.ImageHeight, options.ImageWidth) > 64;
        stem = large
            ? Sequential(
                ("conv", Conv2d(options.InChannels, options.BaseWidth, 7, stride: 2, padding: 3, bias: false)),
                ("bn", BatchNorm2d(options.BaseWidth)),
                ("relu", ReLU()),
                ("pool", MaxPool2d(3, stride: 2, padding: 1)))
            : Sequential(("conv", Conv2d(options.InChannels, options.BaseWidth, 3, padding: 1, bias: false)));

        var (branches, channels) = Blocks(options);
        // Each block in its own dispose scope: scoring a 256-image batch otherwise holds every block's n-stream
        // copies at full resolution until the batch ends (several GB; see ScopedForward).
        blocks = new HyperSequential("blocks", n, branches, options.Collapse, scopeEachLayer: true);
        head_bn = BatchNorm2d(channels);
        dropout = Dropout(options.Dropout);
        classifier = Linear(channels, options.NumClasses);
        FeatureChannels = channels;
        RegisterComponents();
    }

    /// <summary>The configuration this network was built with.</summary>
    public HyperResNetOptions Options { get; }

    /// <summary>Channels entering the classifier.</summary>
    public int FeatureChannels { get; }

    /// <summary>The hyper-connections, in depth order (for diagnostics).</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => blocks.HyperConnections;

    /// <summary>
    /// The hyper-connected blocks in depth order (each stage after the first halves the resolution and doubles the
    /// width; a 1x1 projection carries the streams across the change) and the channels the last one returns.
    /// </summary>
    private static (List<Module<Tensor, Tensor>> Blocks, int Channels) Blocks(HyperResNetOptions options)
    {
        // The channel count changes per stage; each block's WithLayer sets it.
        var connection = options.Mixing.ToConnection(options.BaseWidth, StreamFeatureLayout.ChannelsFirst,
            options.PerPixelMixing ? DynamicGranularity.PerToken : DynamicGranularity.PerSample);
        var blocks = new List<Module<Tensor, Tensor>>();
        int channels = options.BaseWidth;
        for (int s = 0; s < options.StageDepths.Length; s++)
        {
            int planes = options.BaseWidth << s;
            for (int b = 0; b < options.StageDepths[s]; b++)
            {
                int stride = s > 0 && b == 0 ? 2 : 1;
                int outChannels = options.Block == ResNetBlockKind.Basic ? planes * BasicBlock.Expansion : planes * Bottleneck.Expansion;
                Module<Tensor, Tensor> branch = options.Block == ResNetBlockKind.Basic
                    ? new BasicBlock(channels, planes, stride)
                    : new Bottleneck(channels, planes, stride);
                Module<Tensor, Tensor>? projection = stride != 1 || outChannels != channels
                    ? Conv2d(channels, outChannels, 1, stride: stride, bias: false)
                    : null;
                blocks.Add(new HyperConnection($"block{blocks.Count}", branch, connection.WithLayer(blocks.Count, channels), projection));
                channels = outChannels;
            }
        }
        return (blocks, channels);
    }

    /// <summary>Pooled features before the classifier, (B, <see cref="FeatureChannels"/>).</summary>
    public Tensor Features(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != Options.InChannels)
            throw new ArgumentException(
                $"{GetName()} expects images (B, {Options.InChannels}, H, W); got [{string.Join(", ", images.shape)}].", nameof(images));
        var h = functional.relu(head_bn.forward(blocks.forward(stem.forward(images))));
        return functional.adaptive_avg_pool2d(h, 1).flatten(1);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor images) => classifier.forward(dropout.forward(Features(images)));
}
