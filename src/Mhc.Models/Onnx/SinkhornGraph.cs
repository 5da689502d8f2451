using Mhc.Models.Constraints;

namespace Mhc.Models.Onnx;

/// <summary>
/// The Sinkhorn-Knopp projection of mHC eq. (8)-(9) as unrolled ONNX nodes on square logits (..., n, n), step for
/// step as <see cref="SinkhornProjection"/>'s reference: every iteration normalises columns (axis -2), then rows.
/// </summary>
internal static class SinkhornGraph
{
    public static OnnxValue Project(OnnxOps ops, SinkhornProjection sinkhorn, OnnxValue logits, string path) => sinkhorn.Variant switch
    {
        SinkhornVariant.ExpFirst => ExpFirst(ops, sinkhorn.Iterations, logits, path),
        SinkhornVariant.SoftmaxFirst => SoftmaxFirst(ops, sinkhorn.Iterations, (float)sinkhorn.Epsilon, logits, path),
        SinkhornVariant.LogDomain => LogDomain(ops, sinkhorn.Iterations, logits, path),
        _ => throw new NotSupportedException($"ONNX export: Sinkhorn variant {sinkhorn.Variant} of '{path}' is not known to the exporter."),
    };

    // M = exp(H~ - max) (the shift changes nothing after normalisation but keeps exp finite), then alternate.
    private static OnnxValue ExpFirst(OnnxOps ops, int iterations, OnnxValue x, string path)
    {
        var max = ops.Reduce("ReduceMax", x, Hint(path, "max"), keepDims: true, -2, -1);
        var m = ops.Unary("Exp", ops.Binary("Sub", x, max, Hint(path, "shift")), Hint(path, "exp"));
        for (int k = 0; k < iterations; k++)
        {
            m = ops.Binary("Div", m, ops.ReduceSum(m, Hint(path, $"colsum{k}"), keepDims: true, -2), Hint(path, $"col{k}"));
            m = ops.Binary("Div", m, ops.ReduceSum(m, Hint(path, $"rowsum{k}"), keepDims: true, -1), Hint(path, $"row{k}"));
        }
        return m;
    }

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
