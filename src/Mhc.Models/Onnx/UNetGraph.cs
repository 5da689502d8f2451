using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using TorchSharp.Modules;

namespace Mhc.Models.Onnx;

/// <summary>
/// The Hyper-UNet as ONNX nodes, level by level as <see cref="HyperUNet.forward"/>: the encoder's streams from the
/// stem to the bottleneck with a collapsed state handed on at the end of each level, then per decoder level the
/// streamwise upsampling, the skip (history-window mixture, or concatenation and fusion for a residual UNet) and
/// the level's blocks, then collapse, head norm and the 1x1 classifier. Output: per-pixel logits (B, classes, H, W).
/// </summary>
internal static class UNetGraph
{
    public static OnnxValue Export(ModuleGraphExporter e, HyperUNet unet, string path, OnnxValue x)
    {
        var o = unet.Options;
        var ops = e.Ops;
        if (x.Shape.Length != 4 || x.Shape[1] != o.InChannels || x.Shape[2] % o.SizeMultiple != 0 || x.Shape[3] % o.SizeMultiple != 0)
            throw new ArgumentException($"ONNX export: '{path}' expects images (B, {o.InChannels}, H, W) with H and W multiples of {o.SizeMultiple}; got {x}.");
        string Join(string name) => ModuleGraphExporter.Join(path, name);
        var encoder = (HyperSequential)Part(unet, path, "encoder");
        var decoder = (HyperSequential)Part(unet, path, "decoder");
        int depth = o.Depth, perLevel = o.BlocksPerStage;

        var streams = StreamGraphs.Expand(e, encoder.Expand, Join("encoder.expand"), e.ExportChild(unet, path, "stem", x));
        var states = new List<OnnxValue>(depth);
        for (int level = 0; level <= depth; level++)
        {
            streams = Layers(e, encoder, Join("encoder"), streams, level * perLevel, perLevel);
            if (level < depth)
            {
                var collapse = (StreamCollapse)Item(unet, path, "encoder_states", level);
                states.Add(StreamGraphs.Collapse(e, collapse, Join($"encoder_states.{level}"), streams));
            }
        }

        for (int j = 0; j < depth; j++)
        {
            int level = depth - 1 - j;
            streams = e.Export(Item(unet, path, "up", j), Join($"up.{j}"), streams);
            if (o.Mixing.Connection == ConnectionKind.Residual)
            {
                var single = ops.Select(streams, 1, 0, ModuleGraphExporter.Hint(path, $"level{level}_stream"));
                var joined = ops.Concat(single, states[level], 1, ModuleGraphExporter.Hint(path, $"level{level}_concat"));
                streams = ops.Unsqueeze(e.Export(Item(unet, path, "fuse", j), Join($"fuse.{j}"), joined), 1, ModuleGraphExporter.Hint(path, $"level{level}_streams"));
            }
            else
            {
                var skip = (HistoryWindowSkip)Item(unet, path, "skips", j);
                var window = states.GetRange(level - skip.StateCount + 1, skip.StateCount);
                // x_i = up(x_(i+1)) + g sum_k alpha_k P_k(e_k), added to every stream.
                var mix = Mix(e, skip, Join($"skips.{j}"), window);
                if (!mix.SampleShape.SequenceEqual(streams.Shape[2..]))
                    throw new InvalidOperationException($"ONNX export: the skip '{Join($"skips.{j}")}' gives {mix}, the streams are {streams}.");
                streams = ops.Binary("Add", streams, ops.Unsqueeze(mix, 1, ModuleGraphExporter.Hint(path, $"level{level}_skip")), ModuleGraphExporter.Hint(path, $"level{level}_add_skip"));
            }
            streams = Layers(e, decoder, Join("decoder"), streams, j * perLevel, perLevel);
        }
        var h = StreamGraphs.Collapse(e, decoder.Collapse, Join("decoder.collapse"), streams);
        h = ops.Unary("Relu", e.ExportChild(unet, path, "head_bn", h), ModuleGraphExporter.Hint(path, "head_relu"));
        return e.ExportChild(unet, path, "classifier", h);
    }

    /// <summary>
    /// g sum_k alpha_k P_k(x_k) (<see cref="HistoryWindowSkip.Mix"/> in eval mode, no Gumbel noise). alpha is computed
    /// in the graph from the skip's logits, as <see cref="HistoryWindowSkip.MixingWeights"/> does: temperature,
    /// constraint (the last row of a doubly stochastic matrix, a simplex, the identity-preserving simplex or raw
    /// weights), pruning; ONNX Runtime folds it to constants when it loads the model.
    /// </summary>
    public static OnnxValue Mix(ModuleGraphExporter e, HistoryWindowSkip skip, string path, IReadOnlyList<OnnxValue> history)
    {
        var o = skip.Options;
        var ops = e.Ops;
        string Hint(string op) => ModuleGraphExporter.Hint(path, op);
        if (history.Count != skip.StateCount)
            throw new ArgumentException($"ONNX export: '{path}' mixes {skip.StateCount} states; got {history.Count}.");
        long k = skip.StateCount;
        var logitsTensor = ModuleGraphExporter.Tensor(skip, "mix_logits") ?? throw ModuleGraphExporter.Unsupported(skip, path, "it has no mix_logits");
        var logits = new OnnxValue(e.Weight(skip, path, "mix_logits", logitsTensor), logitsTensor.shape);
        if (o.Temperature != 1) logits = ops.Scale(logits, (float)(1 / o.Temperature), Hint("temperature"));
        var w = o.Constraint switch
        {
            ConstraintKind.DoublyStochastic => ops.Select(SinkhornGraph.Project(ops, new SinkhornProjection(o.SinkhornIterations, o.Sinkhorn), logits, path), 0, k - 1, Hint("newest_row")),
            ConstraintKind.Simplex => ops.Softmax(logits, -1, Hint("simplex")),
            ConstraintKind.IdentityPreservingSimplex => IdentityPreserving(ops, logits, o.IdentityFloor, Hint("identity_simplex")),
            ConstraintKind.None => logits,
            _ => throw ModuleGraphExporter.Unsupported(skip, path, $"constraint {o.Constraint} is not known to the exporter"),
        };
        if (o.PruneThreshold > 0)
        {
            var kept = ops.Graph.Node("GreaterOrEqual", Hint("prune_keep"), [w.Name, ops.Graph.Float((float)o.PruneThreshold)]);
            var mask = ops.Graph.Node("Cast", Hint("prune_mask"), [kept], ("to", (long)global::Onnx.TensorProto.Types.DataType.Float));
            w = ops.Binary("Mul", w, mask, [k], Hint("pruned"));
        }
        OnnxValue? sum = null;
        for (int j = 0; j < k; j++)
        {
            var projected = e.Export(skip.Projections[j], ModuleGraphExporter.Join(path, $"projections.{j}"), history[j]);
            var alpha = ops.Select(w, 0, j, Hint($"alpha{j}"));
            var term = ops.Binary("Mul", projected, alpha, Hint($"term{j}"));
            sum = sum is null ? term : ops.Binary("Add", sum, term, Hint($"sum{j}"));
        }
        if (ModuleGraphExporter.Tensor(skip, "gate_logit") is { } gateLogit)
        {
            // UseGating: sigmoid(gamma); LearnedGate: 2 sigmoid(gamma), 1 at init.
            var gate = ops.Unary("Sigmoid", new OnnxValue(e.Weight(skip, path, "gate_logit", gateLogit), [1]), Hint("gate_sigmoid"));
            if (!o.UseGating) gate = ops.Scale(gate, 2f, Hint("gate"));
            sum = ops.Binary("Mul", sum!, gate, Hint("gated"));
        }
        return sum!;
    }

    // IdentityPreservingSimplex with the home entry last: softmax(z) (1 - floor) + floor e_(k-1).
    private static OnnxValue IdentityPreserving(OnnxOps ops, OnnxValue logits, double floor, string hint)
    {
        long k = logits.Shape[^1];
        var home = new float[k];
        home[k - 1] = (float)floor;
        var shares = ops.Scale(ops.Softmax(logits, -1, hint + "_softmax"), (float)(1 - floor), hint + "_shares");
        return ops.Binary("Add", shares, ops.Graph.Floats(home), [k], hint);
    }

    /// <summary>The auto-projection of a history state: nearest upsampling when it is coarser, then its linear map.</summary>
    public static OnnxValue Projection(ModuleGraphExporter e, HistoryWindowSkipProjection projection, string path, OnnxValue x)
    {
        if (projection.Upsample > 1)
        {
            if (x.Shape.Length != 4) throw new ArgumentException($"ONNX export: '{path}' upsamples maps (B, C, H, W); got {x}.");
            x = TorchLayerGraphs.Nearest(e.Ops, x, x.Shape[2] * projection.Upsample, x.Shape[3] * projection.Upsample, ModuleGraphExporter.Hint(path, "upsample"));
        }
        return e.ExportChild(projection, path, "map", x);
    }

    // Layers start .. start + count - 1 of a trunk, on streams already expanded (HyperSequential.ForwardLayers).
    private static OnnxValue Layers(ModuleGraphExporter e, HyperSequential trunk, string path, OnnxValue streams, int start, int count)
    {
        for (int i = start; i < start + count; i++)
            streams = e.Export(trunk.Layers[i], ModuleGraphExporter.Join(path, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), streams);
        return streams;
    }

    private static TorchSharp.torch.nn.Module Part(TorchSharp.torch.nn.Module module, string path, string name) =>
        ModuleGraphExporter.Child(module, name) ?? throw ModuleGraphExporter.Unsupported(module, path, $"it has no child '{name}'");

    // Entry i of the ModuleList child `list`.
    private static TorchSharp.torch.nn.Module Item(TorchSharp.torch.nn.Module module, string path, string list, int i) =>
        ModuleGraphExporter.Child(Part(module, path, list), i.ToString(System.Globalization.CultureInfo.InvariantCulture))
        ?? throw ModuleGraphExporter.Unsupported(module, path, $"its list '{list}' has no entry {i}");
}
