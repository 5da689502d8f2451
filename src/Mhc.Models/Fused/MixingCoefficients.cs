using System.Numerics;

namespace Mhc.Models.Fused;

/// <summary>
/// The mixing coefficients of a group of rows from their projected state, SIMD lanes running across rows, and
/// their backward: mHC eq. (6)-(9), h = alpha (Phi v) r + b, H_pre = sigmoid(h_pre), H_post = 2 sigmoid(h_post),
/// H_res = Sinkhorn(L tanh(h_res / L)); or HC's alpha tanh((Phi v) r) + b. The layout of a coefficient vector is
/// that of Phi's rows: n pre, n post, n^2 res (row-major).
/// </summary>
internal static class MixingCoefficients
{
    /// <summary>Vectors of scratch <see cref="Backward"/> needs besides its arguments.</summary>
    public static int ScratchLength(MixingSpec spec) =>
        2 * spec.Q + 2 * spec.N * spec.N + SinkhornKernel.HistoryLength(spec.N, spec.SinkhornSteps);

    /// <summary>
    /// Coefficients of the lanes' rows into <paramref name="coefficients"/> (Q vectors) from their projections
    /// Phi v (<paramref name="projected"/>, Q vectors) and inverse RMS <paramref name="r"/>.
    /// </summary>
    public static void Forward(MixingSpec spec, ReadOnlySpan<Vector<float>> projected, Vector<float> r,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> biases, Span<Vector<float>> coefficients)
    {
        int n = spec.N, nn = n * n;
        for (int q = 0; q < spec.Q; q++)
        {
            var m = projected[q] * r;
            var gate = new Vector<float>(gates[Gate(q, n)]);
            var bias = new Vector<float>(biases[q]);
            if (!spec.Constrained)
            {
                coefficients[q] = gate * VectorOps.Tanh(m) + bias;
                continue;
            }
            var h = gate * m + bias;
            if (q < n) coefficients[q] = VectorOps.Sigmoid(h);
            else if (q < 2 * n) coefficients[q] = VectorOps.Sigmoid(h) * 2f;
            else coefficients[q] = Bounded(spec, h);
        }
        if (spec.Constrained)
        {
            var s = spec.Sinkhorn!;
            SinkhornKernel.Run(coefficients.Slice(2 * n, nn), n, s.Iterations, s.Variant, (float)s.Epsilon, default, default);
        }
    }

    /// <summary>
    /// Turns the coefficients' gradient (<paramref name="gradient"/>, Q vectors) into the gradient of the projection
    /// Phi v scaled by r, in place; returns the gradient of r, and adds the gates' and biases' gradients (summed
    /// over lanes; lanes of missing rows must carry a zero gradient) to <paramref name="gateGradient"/> (3) and
    /// <paramref name="biasGradient"/> (Q).
    /// </summary>
    public static Vector<float> Backward(MixingSpec spec, ReadOnlySpan<Vector<float>> projected, Vector<float> r,
        ReadOnlySpan<float> gates, ReadOnlySpan<float> biases, Span<Vector<float>> gradient,
        Span<Vector<float>> gateGradient, Span<Vector<float>> biasGradient, Span<Vector<float>> scratch)
    {
        int n = spec.N, nn = n * n, qCount = spec.Q;
        var values = scratch[..qCount];                         // sigmoid outputs, or tanh(m) for HC
        var dh = scratch.Slice(qCount, qCount);
        var bounded = scratch.Slice(2 * qCount, nn);
        var basis = scratch.Slice(2 * qCount + nn, nn);
        var history = scratch[(2 * qCount + 2 * nn)..];
        for (int q = 0; q < qCount; q++)
        {
            var m = projected[q] * r;
            var gate = new Vector<float>(gates[Gate(q, n)]);
            if (!spec.Constrained)
            {
                var t = VectorOps.Tanh(m);
                values[q] = t;
                dh[q] = gradient[q] * gate * (Vector<float>.One - t * t);   // d/dm
                gateGradient[Gate(q, n)] += gradient[q] * t;
                biasGradient[q] += gradient[q];
                continue;
            }
            var h = gate * m + new Vector<float>(biases[q]);
            if (q < 2 * n) values[q] = VectorOps.Sigmoid(h);
            else bounded[q - 2 * n] = Bounded(spec, h);
        }
        if (spec.Constrained)
        {
            for (int k = 0; k < 2 * n; k++)
            {
                var s = values[k];
                // d sigmoid = s (1 - s); H_post = 2 s doubles it.
                var d = gradient[k] * s * (Vector<float>.One - s);
                dh[k] = k < n ? d : d * 2f;
            }
            var p = spec.Sinkhorn!;
            var res = values.Slice(2 * n, nn);
            bounded.CopyTo(res);
            SinkhornKernel.Run(res, n, p.Iterations, p.Variant, (float)p.Epsilon, history, basis);
            var g = gradient.Slice(2 * n, nn);
            SinkhornKernel.BackwardBlock(g, n, p.Variant, spec.SinkhornSteps, history, basis);
            for (int e = 0; e < nn; e++)
            {
                var d = g[e];
                if (spec.Bound is { } l)
                {
                    var t = bounded[e] / l;
                    d *= Vector<float>.One - t * t;
                }
                dh[2 * n + e] = d;
            }
            for (int q = 0; q < qCount; q++)
            {
                var m = projected[q] * r;
                int gi = Gate(q, n);
                gateGradient[gi] += dh[q] * m;
                biasGradient[q] += dh[q];
                dh[q] *= new Vector<float>(gates[gi]);                     // d/dm
            }
        }
        var dr = Vector<float>.Zero;
        for (int q = 0; q < qCount; q++)
        {
            dr += dh[q] * projected[q];
            gradient[q] = dh[q] * r;
        }
        return dr;
    }

    /// <summary>Which of the three gates (pre, post, res) scales coefficient <paramref name="q"/>.</summary>
    public static int Gate(int q, int n) => q < n ? 0 : q < 2 * n ? 1 : 2;

    private static Vector<float> Bounded(MixingSpec spec, Vector<float> h) =>
        spec.Bound is { } l ? VectorOps.Tanh(h / l) * l : h;
}
