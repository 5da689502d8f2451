using Mhc.Models.Constraints;

namespace Mhc.Models.Onnx;

/// <summary>
/// The Sinkhorn-Knopp projection of mHC eq. (8)-(9) as unrolled ONNX nodes on square logits (..., n, n), step for
/// step as <see cref="SinkhornProjection"/>'s reference: every iteration normalises columns (axis -2), then rows.
/// </summary>
/// <remarks>
/// The graphs are scored row by row (ML.NET's ApplyOnnxModel), where each node's dispatch costs more than its
/// arithmetic on an n x n matrix; so each exp-first normalisation is one LpNormalization (p = 1: x / sum |x|, the
/// entries being positive) instead of a ReduceSum and a Div.
/// </remarks>
internal static class SinkhornGraph
{
    /// <summary>
    /// The projection of <paramref name="logits"/>; <paramref name="logitBound"/>: the logits are known to lie within
    /// +-bound (mHC's L tanh(h / L)), so exp cannot overflow and the max shift (which normalisation cancels) is left out.
    /// </summary>
    public static OnnxValue Project(OnnxOps ops, SinkhornProjection sinkhorn, OnnxValue logits, string path, double? logitBound = null) => sinkhorn.Variant switch
    {
        SinkhornVariant.ExpFirst => ExpFirst(ops, sinkhorn.Iterations, logits, path, logitBound is <= 30),
        SinkhornVariant.SoftmaxFirst => SoftmaxFirst(ops, sinkhorn.Iterations, (float)sinkhorn.Epsilon, logits, path),
        SinkhornVariant.LogDomain => LogDomain(ops, sinkhorn.Iterations, logits, path),
        _ => throw new NotSupportedException($"ONNX export: Sinkhorn variant {sinkhorn.Variant} of '{path}' is not known to the exporter."),
    };

    // M = exp(H~ - max) (the shift changes nothing after normalisation but keeps exp finite; bounded logits need
    // none), then alternate column and row normalisations.
    private static OnnxValue ExpFirst(OnnxOps ops, int iterations, OnnxValue x, string path, bool bounded)
    {
        if (!bounded) x = ops.Binary("Sub", x, ops.Reduce("ReduceMax", x, Hint(path, "max"), keepDims: true, -2, -1), Hint(path, "shift"));
        var m = ops.Unary("Exp", x, Hint(path, "exp"));
        for (int k = 0; k < iterations; k++)
        {
            m = L1Normalise(ops, m, -2, Hint(path, $"col{k}"));
            m = L1Normalise(ops, m, -1, Hint(path, $"row{k}"));
        }
        return m;
    }

    private static OnnxValue L1Normalise(OnnxOps ops, OnnxValue m, long axis, string hint) =>
        m with { Name = ops.Graph.Node("LpNormalization", hint, [m.Name], ("axis", axis), ("p", 1L)) };

    // DeepSeek's kernel order: softmax over columns + eps, rows with eps, then iterations - 1 column/row rounds.
    private static OnnxValue SoftmaxFirst(OnnxOps ops, int iterations, float eps, OnnxValue x, string path)
    {
        var m = ops.Shift(ops.Softmax(x, -2, Hint(path, "softmax")), eps, Hint(path, "eps"));
        m = Normalise(ops, m, -1, eps, path, "row0");
        for (int k = 1; k < iterations; k++)
        {
            m = Normalise(ops, m, -2, eps, path, $"col{k}");
            m = Normalise(ops, m, -1, eps, path, $"row{k}");
        }
        return m;
    }

    private static OnnxValue Normalise(OnnxOps ops, OnnxValue m, long axis, float eps, string path, string step)
    {
        var sum = ops.Shift(ops.ReduceSum(m, Hint(path, step + "sum"), keepDims: true, axis), eps, Hint(path, step + "eps"));
        return ops.Binary("Div", m, sum, Hint(path, step));
    }

    // The same fixed point with log-sum-exp normalisations (ReduceLogSumExp), then one exp.
    private static OnnxValue LogDomain(OnnxOps ops, int iterations, OnnxValue x, string path)
    {
        var l = x;
        for (int k = 0; k < iterations; k++)
        {
            l = ops.Binary("Sub", l, ops.Reduce("ReduceLogSumExp", l, Hint(path, $"collse{k}"), keepDims: true, -2), Hint(path, $"col{k}"));
            l = ops.Binary("Sub", l, ops.Reduce("ReduceLogSumExp", l, Hint(path, $"rowlse{k}"), keepDims: true, -1), Hint(path, $"row{k}"));
        }
        return ops.Unary("Exp", l, Hint(path, "exp"));
    }

    private static string Hint(string path, string op) => ModuleGraphExporter.Hint(path, "sinkhorn_" + op);
}
