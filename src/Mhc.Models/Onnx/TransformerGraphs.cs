using Mhc.Models.Transformers;
using TorchSharp.Modules;

namespace Mhc.Models.Onnx;

/// <summary>
/// The transformer layers as ONNX nodes (opset 17): the vision transformer's embedding and heads, RMS norm, the GELU
/// MLP and multi-head self-attention. The trunk runs on token rows (B T, C) (see <see cref="TokenSequence"/>).
/// </summary>
internal static class TransformerGraphs
{
    /// <summary>
    /// <see cref="HyperVisionTransformer.forward"/> in eval mode (no patch masking): patch embedding, positions, the
    /// trunk on token rows, final norm, then the mean-pool or token-grid head and the classifier.
    /// </summary>
    public static OnnxValue Vision(ModuleGraphExporter e, HyperVisionTransformer net, string path, OnnxValue x)
    {
        var o = net.Options;
        var ops = e.Ops;
        if (x.Shape.Length != 4 || x.Shape[1] != o.InChannels || x.Shape[2] != o.ImageHeight || x.Shape[3] != o.ImageWidth)
            throw new ArgumentException($"ONNX export: '{Name(net, path)}' expects images (B, {o.InChannels}, {o.ImageHeight}, {o.ImageWidth}); got {x}.");
        long d = o.Transformer.Dim, p = o.Patches;
        string Hint(string op) => ModuleGraphExporter.Hint(path, op);
        var patches = Part(e, net, path, "patch_embedding", x);                                       // (B, D, h, w)
        var tokens = ops.Transpose(ops.Reshape(patches, Hint("flatten_patches"), d, p), Hint("tokens"), 0, 2, 1);   // (B, P, D)
        // Learned positions are a parameter, fixed sinusoids a buffer: both are state_dict entries (1, P, D).
        var (positionName, positions) = ModuleGraphExporter.Tensor(net, "position_embedding") is { } learned
            ? ("position_embedding", learned)
            : ("fixed_positions", ModuleGraphExporter.Tensor(net, "fixed_positions") ?? throw ModuleGraphExporter.Unsupported(net, path, "it has neither learned nor fixed positions"));
        tokens = ops.Binary("Add", tokens, e.Weight(net, path, positionName, positions), [1, p, d], Hint("positions"));
        var rows = ops.Reshape(tokens, Hint("rows"), d);                                                 // (B P, D)
        var h = e.WithSequence(TokenSequence.Fixed(p), () => Part(e, net, path, "blocks", rows));
        h = Part(e, net, path, "final_norm", h);
        var sequences = ops.Reshape(h, Hint("sequences"), p, d);                                         // (B, P, D)
        var features = o.Head == VisionTransformerHead.TokenGrid
            ? TokenGrid(ops, o, sequences, path)
            : ops.Reduce("ReduceMean", sequences, Hint("mean_pool"), keepDims: false, 1);
        return Part(e, net, path, "classifier", features);
    }

    // HyperVisionTransformer.PoolTokenGrid without masking: the tokens on their grid, resampled to the head grid, flattened.
    private static OnnxValue TokenGrid(OnnxOps ops, HyperVisionTransformerOptions o, OnnxValue sequences, string path)
    {
        long d = sequences.Shape[2];
        var grid = ops.Reshape(ops.Transpose(sequences, ModuleGraphExporter.Hint(path, "grid_channels"), 0, 2, 1),
            ModuleGraphExporter.Hint(path, "grid"), d, o.PatchRows, o.PatchColumns);
        var (rows, columns) = o.HeadGrid;
        grid = TorchLayerGraphs.Nearest(ops, grid, rows, columns, ModuleGraphExporter.Hint(path, "head_grid"));
        return ops.Reshape(grid, ModuleGraphExporter.Hint(path, "grid_flat"), d * rows * columns);
    }

    /// <summary>y = x / sqrt(mean(x^2) + eps) * g over the last axis (opset 17 has no RMS normalisation operator).</summary>
    public static OnnxValue RmsNorm(ModuleGraphExporter e, RmsNorm norm, string path, OnnxValue x)
    {
        var ops = e.Ops;
        if (x.Shape[^1] != norm.Dim) throw new ArgumentException($"ONNX export: RMS norm '{path}' expects a last axis of {norm.Dim}; got {x}.");
        string Hint(string op) => ModuleGraphExporter.Hint(path, op);
        var meanSquare = ops.Reduce("ReduceMean", ops.Binary("Mul", x, x, Hint("square")), Hint("mean_square"), keepDims: true, -1);
        var inverse = ops.Unary("Reciprocal", ops.Unary("Sqrt", ops.Shift(meanSquare, (float)norm.Epsilon, Hint("eps")), Hint("rms")), Hint("inv_rms"));
        var weight = ModuleGraphExporter.Tensor(norm, "weight") ?? throw ModuleGraphExporter.Unsupported(norm, path, "it has no weight");
        return ops.Binary("Mul", ops.Binary("Mul", x, inverse, Hint("normed")), e.Weight(norm, path, "weight", weight), [norm.Dim], Hint("scaled"));
    }

    /// <summary>Linear, exact GELU 0.5 x (1 + erf(x / sqrt 2)) (the Gelu operator arrives in opset 20), Linear.</summary>
    public static OnnxValue FeedForward(ModuleGraphExporter e, FeedForward mlp, string path, OnnxValue x)
    {
        var ops = e.Ops;
        string Hint(string op) => ModuleGraphExporter.Hint(path, op);
        var hidden = Part(e, mlp, path, "fc", x);
        var erf = ops.Unary("Erf", ops.Scale(hidden, (float)(1 / Math.Sqrt(2)), Hint("gelu_scaled")), Hint("gelu_erf"));
        var gelu = ops.Binary("Mul", ops.Scale(hidden, 0.5f, Hint("gelu_half")), ops.Shift(erf, 1f, Hint("gelu_one")), Hint("gelu"));
        return Part(e, mlp, path, "proj", gelu);
    }

    /// <summary>
    /// Self-attention on token rows (B T, C): qkv, heads (B, H, T, D), softmax(q k^T / sqrt D) v (causal: keys after
    /// the query masked out), the heads joined back into rows, the output projection. With a cache the past keys and
    /// values come first.
    /// </summary>
    public static OnnxValue Attention(ModuleGraphExporter e, MultiHeadSelfAttention attention, string path, OnnxValue x)
    {
        var sequence = e.Sequence ?? throw ModuleGraphExporter.Unsupported(attention, path,
            "attention is exported inside a vision transformer or a decoder, which say how the token rows form sequences");
        if (x.Shape.Length != 2)
            throw new ArgumentException($"ONNX export: attention '{path}' runs on token rows (B T, C); got {x}.");
        var ops = e.Ops;
        string Hint(string op) => ModuleGraphExporter.Hint(path, op);
        long c = x.Shape[1], heads = attention.Heads, d = c / heads;
        var qkv = sequence.ToSequences(ops, Part(e, attention, path, "qkv", x), [3, heads, d], Hint("qkv_heads"));   // (B, T, 3, H, D)
        OnnxValue Heads(int i, string name) => ops.Transpose(ops.Select(qkv, 2, i, Hint(name + "_select")), Hint(name), 0, 2, 1, 3);   // (B, H, T, D)
        // softmax(q k^T / sqrt D): the scale goes on q, the smaller operand.
        var q = ops.Scale(Heads(0, "q"), (float)(1 / Math.Sqrt(d)), Hint("q_scaled"));
        var (k, v) = sequence.Append(ops, Heads(1, "k"), Heads(2, "v"), path);
        var scores = ops.MatMul(q, ops.Transpose(k, Hint("k_t"), 0, 1, 3, 2), Hint("scores"));   // (B, H, T, S)
        if (attention.Causal)
        {
            var masked = ops.Graph.Node("Where", Hint("causal"), [sequence.CausalMask(ops), scores.Name, ops.Graph.Float(float.NegativeInfinity)]);
            scores = scores with { Name = masked };
        }
        var y = ops.MatMul(ops.Softmax(scores, -1, Hint("weights")), v, Hint("attend"));        // (B, H, T, D)
        var rows = ops.Reshape(ops.Transpose(y, Hint("join_heads"), 0, 2, 1, 3), Hint("rows"), c);
        return Part(e, attention, path, "proj", rows);
    }

    private static OnnxValue Part(ModuleGraphExporter e, TorchSharp.torch.nn.Module module, string path, string name, OnnxValue x) =>
        e.ExportChild(module, path, name, x);

    private static string Name(TorchSharp.torch.nn.Module module, string path) => path.Length == 0 ? module.GetName() : path;
}
