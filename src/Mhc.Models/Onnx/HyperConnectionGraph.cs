using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using static TorchSharp.torch;

namespace Mhc.Models.Onnx;

/// <summary>
/// A <see cref="HyperConnection"/> as ONNX nodes, following its tensor reference path (ForwardResidual,
/// ForwardStatic, ForwardDynamic): streams x (B, n, C, *S), channels first (the Hyper-ResNet's and the UNet's layout),
/// or token rows (B T, n, C) inside a transformer (<see cref="HyperConnection.ForwardRows"/>, one state per token).
/// </summary>
/// <remarks>
/// mHC (arXiv 2512.24880): v = flatten(X); r = 1/sqrt(mean(v^2) + eps); m = (Phi v) r (eq. 5);
/// h = alpha m + b (eq. 6); H_pre = sigmoid, H_post = 2 sigmoid, H_res = Sinkhorn(L tanh(h_res / L)) (eq. 7-9);
/// X'[i] = sum_j H_res[i, j] X[j] + H_post[i] F(sum_k H_pre[k] X[k]) (eq. 3). HC (arXiv 2409.19606) uses
/// alpha tanh(m) + b and no activation. Static mixing uses the biases alone. The state X is the spatial mean of
/// each stream (per sample) or each pixel's n x C state (per token).
/// </remarks>
internal static class HyperConnectionGraph
{
    public static OnnxValue Export(ModuleGraphExporter e, HyperConnection hc, string path, OnnxValue x)
    {
        var o = hc.Options;
        StreamGraphs.CheckStreams(hc, path, x, o.Streams);
        if (o.Mixing.Connection == ConnectionKind.Residual) return Residual(e, hc, path, x);
        // Token streams are exported as rows (B T, n, C) (see TokenSequence); maps keep their layout (B, n, C, *S).
        bool rows = x.Shape.Length == 3;
        if (o.Layout != StreamFeatureLayout.ChannelsFirst && !rows)
            throw ModuleGraphExporter.Unsupported(hc, path, $"channels-last streams are exported as token rows (B T, n, C) inside a transformer; got {x}");
        var c = new Context(e, hc, path);
        if (!o.Mixing.DynamicMixing)
        {
            // ForwardStatic: the activated biases, shared by every sample.
            var (pre, post, res) = c.Activate(c.Bias("bias_pre", o.Streams), c.Bias("bias_post", o.Streams), c.Bias("bias_res", o.Streams, o.Streams));
            return c.ApplyFlat(x, pre, post, res);
        }
        if (rows)
        {
            // One n x C state per row: per token (HyperConnection.ForwardRows); a per-sample mean would need the
            // sequences, which only the trunk's transformers keep, and they mix per token.
            if (o.Granularity == DynamicGranularity.PerSample && e.Sequence is not null)
                throw ModuleGraphExporter.Unsupported(hc, path, "per-sample mixing of token sequences is not exported (the transformers mix per token)");
            var (lp, lq, lr) = c.DynamicLogits(e.Ops.Reshape(x, c.Hint("state"), x.SampleSize));
            var (rp, rq, rr) = c.Activate(lp, lq, lr);
            return c.ApplyFlat(x, rp, rq, rr);
        }
        if (o.Granularity == DynamicGranularity.PerSample)
        {
            // One n x C state per sample: the spatial mean of each stream.
            long[] spatial = Enumerable.Range(3, x.Shape.Length - 3).Select(a => (long)a).ToArray();
            var pooled = e.Ops.Reduce("ReduceMean", x, c.Hint("pool"), keepDims: false, spatial);        // (B, n, C)
            var (hp, hq, hr) = c.DynamicLogits(e.Ops.Reshape(pooled, c.Hint("state"), pooled.SampleSize));
            var (pre, post, res) = c.Activate(hp, hq, hr);
            return c.ApplyFlat(x, pre, post, res);
        }
        return PerToken(c, x);
    }

    // x + F(x) on the single stream, the projection (if any) on the skip.
    private static OnnxValue Residual(ModuleGraphExporter e, HyperConnection hc, string path, OnnxValue x)
    {
        var single = e.Ops.Select(x, 1, 0, ModuleGraphExporter.Hint(path, "stream"));
        var y = e.Export(hc.Branch, ModuleGraphExporter.Join(path, "branch"), single);
        var projection = ModuleGraphExporter.Child(hc, "projection");
        var skip = projection is null ? single : e.Export(projection, ModuleGraphExporter.Join(path, "projection"), single);
        return e.Ops.Unsqueeze(e.Ops.Binary("Add", skip, y, ModuleGraphExporter.Hint(path, "add")), 1, ModuleGraphExporter.Hint(path, "streams"));
    }

    // Per-token mixing (mHC as written): every pixel's n x C state sets its own coefficients.
    private static OnnxValue PerToken(Context c, OnnxValue x)
    {
        var ops = c.Ops;
        long n = x.Shape[1], ch = x.Shape[2];
        long[] spatial = x.Shape[3..];
        long s = spatial.Aggregate(1L, (a, d) => a * d);
        int d = x.Shape.Length;
        // (B, n, C, *S) -> (B, *S, n, C), and back.
        long[] toTokens = [0, .. Enumerable.Range(3, d - 3).Select(i => (long)i), 1, 2];
        var fromTokens = new long[d];
        for (int i = 0; i < d; i++) fromTokens[toTokens[i]] = i;
        var tokens = ops.Reshape(ops.Transpose(x, c.Hint("to_tokens"), toTokens), c.Hint("tokens"), s, n, ch);   // (B, S, n, C)
        var (lp, lq, lr) = c.DynamicLogits(ops.Reshape(tokens, c.Hint("state"), s, n * ch));
        var (pre, post, res) = c.Activate(lp, lq, lr);                                                    // (B,S,n), (B,S,n), (B,S,n,n)
        var u1 = ops.MatMul(ops.Unsqueeze(pre, -2, c.Hint("pre_row")), tokens, c.Hint("read"));          // (B, S, 1, C)
        var u = ops.Reshape(ops.Transpose(ops.Reshape(u1, c.Hint("read_grid"), [.. spatial, 1, ch]), c.Hint("read_from_tokens"), fromTokens),
            c.Hint("branch_input"), [ch, .. spatial]);
        var y = c.Branch(u);
        var mixed = ops.MatMul(res, tokens, c.Hint("mix"));                                                 // (B, S, n, C)
        var projection = ModuleGraphExporter.Child(c.Hc, "projection");
        if (projection is null && y.SampleShape.SequenceEqual(u.SampleShape))
        {
            var yTokens = ops.Reshape(ops.Transpose(ops.Unsqueeze(y, 1, c.Hint("write_stream")), c.Hint("write_to_tokens"), toTokens),
                c.Hint("write_tokens"), s, 1, ch);
            var written = ops.Binary("Add", mixed, ops.Binary("Mul", ops.Unsqueeze(post, -1, c.Hint("post_col")), yTokens, c.Hint("write")), c.Hint("out_tokens"));
            return ops.Transpose(ops.Reshape(written, c.Hint("out_grid"), [.. spatial, n, ch]), c.Hint("from_tokens"), fromTokens);
        }
        // The projection changes the token grid: per-token H_post no longer lines up, so its per-sample mean is used.
        var carried = c.Project(ops.Transpose(ops.Reshape(mixed, c.Hint("mix_grid"), [.. spatial, n, ch]), c.Hint("mix_from_tokens"), fromTokens));
        var postMean = ops.Unsqueeze(ops.Reduce("ReduceMean", post, c.Hint("post_mean"), keepDims: false, 1), -1, c.Hint("post_col"));
        return c.Write(carried, postMean, y);
    }

    /// <summary>One connection's parameters and the pieces of its forward pass.</summary>
    private sealed class Context(ModuleGraphExporter e, HyperConnection hc, string path)
    {
        private readonly long n = hc.Options.Streams;

        public HyperConnection Hc => hc;

        public OnnxOps Ops => e.Ops;

        public string Hint(string op) => ModuleGraphExporter.Hint(path, op);

        public OnnxValue Bias(string name, params long[] shape) => new(Weight(name), shape);

        private string Weight(string name)
        {
            var t = ModuleGraphExporter.Tensor(hc, name) ?? throw ModuleGraphExporter.Unsupported(hc, path, $"it has no parameter '{name}'");
            return e.Weight(hc, path, name, t);
        }

        public OnnxValue Branch(OnnxValue u) => e.Export(hc.Branch, ModuleGraphExporter.Join(path, "branch"), u);

        /// <summary>Eq. (5)-(6) on states v (..., nC): logits of H_pre (.., n), H_post (.., n), H_res (.., n, n).</summary>
        /// <remarks>
        /// The gates and biases are applied to all n^2 + 2n coefficients at once, alpha_full m + b_full, with alpha_full
        /// (each gate repeated over its coefficients) and b_full (the three biases end to end) made of initializers
        /// only, so that ONNX Runtime folds them to constants: two nodes instead of nine per connection, which matters
        /// when a row is scored alone and every node costs its dispatch.
        /// </remarks>
        public (OnnxValue Pre, OnnxValue Post, OnnxValue Res) DynamicLogits(OnnxValue v)
        {
            var o = hc.Options;
            var g = Ops.Graph;
            var meanSquare = Ops.Reduce("ReduceMean", Ops.Binary("Mul", v, v, Hint("square")), Hint("mean_square"), keepDims: true, -1);
            var r = Ops.Unary("Reciprocal", Ops.Unary("Sqrt", Ops.Shift(meanSquare, (float)o.NormEpsilon, Hint("eps")), Hint("rms")), Hint("inv_rms"));
            long q = n * n + 2 * n;
            var phiT = new OnnxValue(g.Node("Transpose", Hint("phi_t"), [Weight("phi")], ("perm", new long[] { 1, 0 })), [v.Shape[^1], q]);
            var m = Ops.Binary("Mul", Ops.MatMul(v, phiT, Hint("phi")), r, Hint("m"));
            // HC: alpha tanh(m) + b, tanh on every coefficient.
            if (o.Mixing.Connection == ConnectionKind.Hc) m = Ops.Unary("Tanh", m, Hint("tanh"));
            long[] gateOf = [.. Enumerable.Repeat(0L, (int)n), .. Enumerable.Repeat(1L, (int)n), .. Enumerable.Repeat(2L, (int)(n * n))];
            var gates = g.Node("Gather", Hint("gates_full"), [Weight("gates"), g.Int64s(gateOf)], ("axis", 0L));
            var resBias = g.Node("Reshape", Hint("bias_res_flat"), [Weight("bias_res"), g.Int64s(n * n)]);
            var biases = g.Node("Concat", Hint("bias_full"), [Weight("bias_pre"), Weight("bias_post"), resBias], ("axis", 0L));
            var h = Ops.Binary("Add", Ops.Binary("Mul", m, gates, [q], Hint("gated")), biases, [q], Hint("h"));
            var hRes = Ops.Slice(h, -1, 2 * n, q, Hint("h_res_flat"));
            return (Ops.Slice(h, -1, 0, n, Hint("h_pre")), Ops.Slice(h, -1, n, 2 * n, Hint("h_post")),
                Ops.Reshape(hRes, Hint("h_res"), [.. hRes.SampleShape[..^1], n, n]));
        }

        /// <summary>Eq. (7)-(9): sigmoid, 2 sigmoid, Sinkhorn of the bounded logits; HC keeps its logits.</summary>
        public (OnnxValue Pre, OnnxValue Post, OnnxValue Res) Activate(OnnxValue hPre, OnnxValue hPost, OnnxValue hRes)
        {
            var mixing = hc.Options.Mixing;
            if (mixing.Connection == ConnectionKind.Hc) return (hPre, hPost, hRes);
            var pre = Ops.Unary("Sigmoid", hPre, Hint("pre"));
            var post = Ops.Scale(Ops.Unary("Sigmoid", hPost, Hint("post_sigmoid")), 2f, Hint("post"));
            var bounded = hRes;
            if (mixing.ResidualLogitBound is { } l)
            {
                // L tanh(h / L), as HyperConnection.BoundResidualLogits.
                var scaled = Ops.Binary("Div", hRes, Ops.Graph.Float((float)l), [], Hint("res_scaled"));
                bounded = Ops.Scale(Ops.Unary("Tanh", scaled, Hint("res_tanh")), (float)l, Hint("res_bounded"));
            }
            var sinkhorn = new SinkhornProjection(mixing.SinkhornIterations, mixing.Sinkhorn);
            return (pre, post, SinkhornGraph.Project(Ops, sinkhorn, bounded, path, logitBound: mixing.ResidualLogitBound));
        }

        /// <summary>
        /// ApplyFlat: coefficients shared by all positions of a sample (pre/post (B or none, n), res (B or none, n, n))
        /// on the flattened streams (B, n, M).
        /// </summary>
        public OnnxValue ApplyFlat(OnnxValue x, OnnxValue pre, OnnxValue post, OnnxValue res)
        {
            var flat = Ops.Reshape(x, Hint("flat"), n, x.SampleSize / n);
            var u = Ops.Reshape(Ops.MatMul(Ops.Unsqueeze(pre, -2, Hint("pre_row")), flat, Hint("read")), Hint("branch_input"), x.Shape[2..]);
            var y = Branch(u);
            var postColumn = Ops.Unsqueeze(post, -1, Hint("post_col"));
            if (ModuleGraphExporter.Child(hc, "projection") is null && y.SampleSize == flat.Shape[2])
            {
                // X' = [H_res | H_post] [X ; F(u)]: one product writes the new streams, instead of a product, a
                // broadcast multiply and an add that each pass over all n streams (the streams dominate memory traffic).
                var coefficients = Ops.Concat(res, postColumn, -1, Hint("res_post"));                       // (B|1, n, n + 1)
                var stacked = Ops.Concat(flat, Ops.Reshape(y, Hint("y_row"), 1, y.SampleSize), 1, Hint("streams_and_y"));   // (B, n + 1, M)
                return Ops.Reshape(Ops.MatMul(coefficients, stacked, Hint("write")), Hint("out"), [n, .. y.SampleShape]);
            }
            var mixed = Ops.Reshape(Ops.MatMul(res, flat, Hint("mix")), Hint("mixed"), x.SampleShape);     // (B, n, M)
            var carried = ModuleGraphExporter.Child(hc, "projection") is null ? mixed : Project(mixed);
            return Write(carried, postColumn, y);
        }

        /// <summary>carried + post (B|1, n, 1) * F(u), shaped like the streams (B, n, *features').</summary>
        public OnnxValue Write(OnnxValue carried, OnnxValue postColumn, OnnxValue y)
        {
            var flat = Ops.Reshape(carried, Hint("carried_flat"), n, carried.SampleSize / n);
            var yRow = Ops.Reshape(y, Hint("y_row"), 1, y.SampleSize);
            var sum = Ops.Binary("Add", flat, Ops.Binary("Mul", postColumn, yRow, Hint("write")), Hint("out_flat"));
            return Ops.Reshape(sum, Hint("out"), [n, .. y.SampleShape]);
        }

        /// <summary>The projection on every stream: (B, n, C, *S) folded to (B n, C, *S) and back.</summary>
        public OnnxValue Project(OnnxValue streams)
        {
            var projection = ModuleGraphExporter.Child(hc, "projection")!;
            var folded = Ops.Reshape(streams, Hint("project_fold"), streams.Shape[2..]);
            var p = e.Export(projection, ModuleGraphExporter.Join(path, "projection"), folded);
            return Ops.Reshape(p, Hint("project_unfold"), [n, .. p.SampleShape]);
        }
    }
}
