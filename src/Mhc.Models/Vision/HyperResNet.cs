using Mhc.Models.Native;
using Mhc.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Vision;

/// <summary>
/// A pre-activation ResNet whose residual connections are hyper-connections: the stem output is
/// expanded into n streams, every block is a <see cref="HyperConnection"/> around a
/// <see cref="BasicBlock"/> or <see cref="Bottleneck"/> branch, and the streams are collapsed once
/// before the head. With <see cref="ConnectionKind.Residual"/> it is an ordinary pre-activation ResNet.
/// Input (B, C, H, W) float32; output class logits (B, classes).
/// </summary>
public sealed class HyperResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> stem;
    private readonly StreamExpand expand;
    private readonly ModuleList<HyperConnection> blocks;
    private readonly StreamCollapse collapse;
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

        // The channel count changes per stage; each block's WithLayer sets it.
        var connection = options.Mixing.ToConnection(options.BaseWidth, StreamFeatureLayout.ChannelsFirst,
            options.PerPixelMixing ? DynamicGranularity.PerToken : DynamicGranularity.PerSample);
        blocks = new ModuleList<HyperConnection>();
        int channels = options.BaseWidth, layer = 0;
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
                blocks.Add(new HyperConnection($"block{layer}", branch, connection.WithLayer(layer, channels), projection));
                channels = outChannels;
                layer++;
            }
        }
        expand = new StreamExpand(n);
        collapse = new StreamCollapse(n, options.Collapse);
        head_bn = BatchNorm2d(channels);
        dropout = Dropout(options.Dropout);
        classifier = Linear(channels, options.NumClasses);
        FeatureChannels = channels;
        RegisterComponents();
        ConvolutionBackendCheck.EnsureCorrectGradients(this);
    }

    /// <summary>The configuration this network was built with.</summary>
    public HyperResNetOptions Options { get; }

    /// <summary>Channels entering the classifier.</summary>
    public int FeatureChannels { get; }

    /// <summary>The hyper-connections, in depth order (for diagnostics).</summary>
    public IReadOnlyList<HyperConnection> HyperConnections => blocks.ToList();

    /// <summary>Pooled features before the classifier, (B, <see cref="FeatureChannels"/>).</summary>
    public Tensor Features(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != Options.InChannels)
            throw new ArgumentException(
                $"{GetName()} expects images (B, {Options.InChannels}, H, W); got [{string.Join(", ", images.shape)}].", nameof(images));
        var streams = expand.forward(stem.forward(images));
        foreach (var block in blocks) streams = ScopedForward.Apply(block, streams);
        var h = functional.relu(head_bn.forward(collapse.forward(streams)));
        return functional.adaptive_avg_pool2d(h, 1).flatten(1);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor images) => classifier.forward(dropout.forward(Features(images)));
}
