using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mhc.Models.Onnx;

/// <summary>
/// Walks a network of our own module types and adds its inference graph (batch norms with running statistics,
/// dropout off) to an <see cref="OnnxGraphBuilder"/>. Weights become initializers named after the root module's
/// state_dict keys. A module type it does not know gives <see cref="NotSupportedException"/> naming the layer and
/// its type, so no graph is ever written that computes something else.
/// </summary>
/// <remarks>
/// Supported: Hyper-ResNet (stem, <see cref="ConvUnit"/>, <see cref="BasicBlock"/>, <see cref="Bottleneck"/>, head),
/// <see cref="HyperSequential"/>, <see cref="StreamExpand"/>, <see cref="StreamCollapse"/>, <see cref="PerStream"/>,
/// <see cref="HyperConnection"/> (residual, HC, mHC; static and dynamic mixing, per sample or per pixel, every
/// Sinkhorn variant, see <see cref="HyperConnectionGraph"/>), and Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d,
/// Linear, Dropout, Identity; the vision transformer (<see cref="TransformerGraphs"/>), whose trunk runs on token rows
/// (<see cref="TokenSequence"/>); the Hyper-UNet with history-window skips (<see cref="UNetGraph"/>); the decoder with
/// past keys and values (<see cref="DecoderOnnxExport"/>).
/// </remarks>
public sealed class ModuleGraphExporter
{
    private readonly HashSet<string> stateKeys;

    /// <summary>An exporter adding to <paramref name="graph"/> the modules of <paramref name="root"/> (whose state_dict names the weights).</summary>
    public ModuleGraphExporter(OnnxGraphBuilder graph, nn.Module root)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(root);
        Ops = new OnnxOps(graph);
        stateKeys = root.state_dict().Keys.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The operator wrappers on the graph.</summary>
    public OnnxOps Ops { get; }

    /// <summary>
    /// Adds <paramref name="module"/> (state_dict prefix <paramref name="path"/>, "" for the root) applied to
    /// <paramref name="x"/>; returns its output.
    /// </summary>
    /// <exception cref="NotSupportedException">The module, or one inside it, cannot be exported.</exception>
    public OnnxValue Export(nn.Module module, string path, OnnxValue x)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module switch
        {
            HyperResNet net => HyperResNet(net, path, x),
            HyperVisionTransformer vit => TransformerGraphs.Vision(this, vit, path, x),
            HyperUNet unet => UNetGraph.Export(this, unet, path, x),
            HyperDecoderTransformer decoder => throw Unsupported(decoder, path, $"a decoder has token-id and key/value inputs; write it with {nameof(DecoderOnnxExport)}.{nameof(DecoderOnnxExport.Write)}"),
            HyperTransformerBlock block => Chain(block, path, x, "attention", "mlp"),
            RmsNorm norm => TransformerGraphs.RmsNorm(this, norm, path, x),
            FeedForward mlp => TransformerGraphs.FeedForward(this, mlp, path, x),
            MultiHeadSelfAttention attention => TransformerGraphs.Attention(this, attention, path, x),
            StreamwiseUpsample up => StreamGraphs.PerStream(this, up, "up", path, x),
            HistoryWindowSkipProjection projection => UNetGraph.Projection(this, projection, path, x),
            HyperSequential stack => StreamGraphs.Sequential(this, stack, path, x),
            StreamExpand expand => StreamGraphs.Expand(this, expand, path, x),
            StreamCollapse collapse => StreamGraphs.Collapse(this, collapse, path, x),
            PerStream perStream => StreamGraphs.PerStream(this, perStream, path, x),
            HyperConnection hc => HyperConnectionGraph.Export(this, hc, path, x),
            ConvUnit unit => Chain(unit, path, x, "bn", "relu", "conv"),
            BasicBlock block => Chain(block, path, x, "unit1", "unit2"),
            Bottleneck block => Chain(block, path, x, "bn1", "relu", "reduce", "bn2", "relu", "conv", "bn3", "relu", "expand"),
            Sequential sequential => sequential.named_children().Aggregate(x, (h, c) => Export(c.module, Join(path, c.name), h)),
            Conv2d conv => TorchLayerGraphs.Conv(this, conv, path, x),
            ConvTranspose2d conv => TorchLayerGraphs.ConvTranspose(this, conv, path, x),
            BatchNorm2d bn => TorchLayerGraphs.BatchNorm(this, bn, path, x),
            ReLU => Ops.Unary("Relu", x, Hint(path, "relu")),
            MaxPool2d pool => TorchLayerGraphs.MaxPool(this, pool, path, x),
            Linear linear => TorchLayerGraphs.Linear(this, linear, path, x),
            Dropout or Identity => x,   // identity at inference
            _ => throw Unsupported(module, path),
        };
    }

    /// <summary>The error for a module the exporter does not know, naming it and its type.</summary>
    public static NotSupportedException Unsupported(nn.Module module, string path, string? why = null) =>
        new($"ONNX export does not support layer '{(path.Length == 0 ? module.GetName() : path)}' of type {module.GetType().FullName}" +
            (why is null ? "." : $": {why}.") +
            " Supported: the Hyper-ResNet, the vision transformer, the Hyper-UNet (history-window skips) and the decoder, with residual, HC or mHC connections.");

    /// <summary>How the attention layers being exported see their token rows as sequences; null outside a transformer.</summary>
    internal TokenSequence? Sequence { get; private set; }

    /// <summary>Runs <paramref name="export"/> with <paramref name="sequence"/> as <see cref="Sequence"/>.</summary>
    internal OnnxValue WithSequence(TokenSequence sequence, Func<OnnxValue> export)
    {
        var outer = Sequence;
        Sequence = sequence;
        try
        {
            return export();
        }
        finally
        {
            Sequence = outer;
        }
    }

    /// <summary>Adds the registered child <paramref name="name"/> of <paramref name="module"/> (at <paramref name="path"/>) applied to <paramref name="x"/>.</summary>
    /// <exception cref="NotSupportedException">The module has no such child.</exception>
    public OnnxValue ExportChild(nn.Module module, string path, string name, OnnxValue x)
    {
        var child = Child(module, name) ?? throw Unsupported(module, path, $"it has no child '{name}'");
        return Export(child, Join(path, name), x);
    }

    /// <summary>
    /// The initializer for the state_dict entry <paramref name="local"/> of <paramref name="module"/> at <paramref name="path"/>;
    /// throws when the name is not a key of the root's state_dict (the walk lost track of the names).
    /// </summary>
    public string Weight(nn.Module module, string path, string local, Tensor tensor)
    {
        var name = Join(path, local);
        if (!stateKeys.Contains(name))
            throw new InvalidOperationException($"ONNX export: '{name}' ({module.GetType().Name}) is not a state_dict key of the network being exported.");
        return Ops.Graph.Initializer(name, tensor);
    }

    /// <summary>The registered parameter or buffer <paramref name="local"/> of <paramref name="module"/>, or null.</summary>
    public static Tensor? Tensor(nn.Module module, string local) =>
        module.named_parameters(recurse: false).Where(p => p.name == local).Select(p => (Tensor)p.parameter).FirstOrDefault()
        ?? module.named_buffers(recurse: false).Where(b => b.name == local).Select(b => b.buffer).FirstOrDefault();

    /// <summary>The registered child <paramref name="local"/> of <paramref name="module"/>, or null.</summary>
    public static nn.Module? Child(nn.Module module, string local) =>
        module.named_children().Where(c => c.name == local).Select(c => c.module).FirstOrDefault();

    /// <summary>"a.b" from a prefix and a local name (the prefix may be empty).</summary>
    public static string Join(string path, string local) => path.Length == 0 ? local : path + "." + local;

    /// <summary>A node-name hint for an op of the layer at <paramref name="path"/>.</summary>
    public static string Hint(string path, string op) => path.Length == 0 ? op : path + "/" + op;

    // Fixed forward bodies (ConvUnit, BasicBlock, Bottleneck): children by name, "relu" between them.
    private OnnxValue Chain(nn.Module module, string path, OnnxValue x, params string[] steps)
    {
        foreach (var step in steps)
        {
            if (step == "relu") { x = Ops.Unary("Relu", x, Hint(path, "relu")); continue; }
            x = ExportChild(module, path, step, x);
        }
        return x;
    }

    // HyperResNet.Features + forward: stem, trunk, relu(head_bn), global average pool, dropout (off), classifier.
    private OnnxValue HyperResNet(HyperResNet net, string path, OnnxValue x)
    {
        var h = ExportChild(net, path, "stem", x);
        h = ExportChild(net, path, "blocks", h);
        h = Ops.Unary("Relu", ExportChild(net, path, "head_bn", h), Hint(path, "head_relu"));
        h = new OnnxValue(Ops.Graph.Node("GlobalAveragePool", Hint(path, "pool"), [h.Name]), [-1, h.Shape[1], 1, 1]);
        h = Ops.Reshape(h, Hint(path, "flatten"), h.Shape[1]);
        return ExportChild(net, path, "classifier", h);
    }
}
