using System.Numerics;
using System.Runtime.CompilerServices;
using Mhc.Models.Constraints;

namespace Mhc.Models.Fused;

/// <summary>
/// Sinkhorn-Knopp (mHC eq. 8-9) on a batch of small n x n float32 matrices, forward and backward, computed in C#
/// with SIMD lanes running across matrices (lane l of every vector holds matrix b + l). The same operations as
/// <see cref="SinkhornProjection"/>'s unrolled tensor code, in the same order, for its three variants; the backward
/// recomputes the iterations from the logits and walks them back in one pass, so nothing but the logits is kept
/// between forward and backward (as DeepSeek's kernel does).
/// </summary>
/// <remarks>
/// Why not tensor ops: one projection is 40 normalisations of tensors of a few kilobytes, and each op costs
/// libtorch several microseconds of dispatch, plus as many again in backward; at n = 4 the arithmetic is
/// negligible next to that.
/// </remarks>
internal static class SinkhornKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    [ThreadStatic] private static Vector<float>[]? workspace;

    /// <summary>Tests only: runs the general loops for n = 4 too, to hold <see cref="Sinkhorn4"/> to them bit for bit.</summary>
    [ThreadStatic] internal static bool ForceGeneral;
    [ThreadStatic] private static float[]? staging;

    /// <summary>Normalisation half-steps a projection takes (column or row each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int HalfSteps(SinkhornVariant variant, int iterations) =>
        variant == SinkhornVariant.SoftmaxFirst ? 2 * iterations - 1 : 2 * iterations;

    /// <summary>Projects <paramref name="count"/> row-major n x n matrices from <paramref name="logits"/> into <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Forward(float* logits, float* output, long count, int n, int iterations, SinkhornVariant variant, float epsilon)
    {
        nint src = (nint)logits, dst = (nint)output;
        long blocks = (count + Lanes - 1) / Lanes;
        KernelParallel.For(blocks, 64, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            var ws = Workspace(n, 0);
            for (long b = start; b < end; b++)
            {
                var m = ws.AsSpan(0, n * n);
                Load((float*)src, b * Lanes, count, n * n, m);
                Run(m, n, iterations, variant, epsilon, default, default);
                Store((float*)dst, b * Lanes, count, n * n, m);
            }
        });
    }

    /// <summary>
    /// The gradient with respect to <paramref name="logits"/> of a projection whose output gradient is
    /// <paramref name="gradOutput"/>, written to <paramref name="gradLogits"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Backward(float* logits, float* gradOutput, float* gradLogits, long count, int n, int iterations,
        SinkhornVariant variant, float epsilon)
    {
        nint src = (nint)logits, grad = (nint)gradOutput, dst = (nint)gradLogits;
        long blocks = (count + Lanes - 1) / Lanes;
        int nn = n * n, steps = HalfSteps(variant, iterations);
        KernelParallel.For(blocks, 32, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            var ws = Workspace(n, steps);
            for (long b = start; b < end; b++)
            {
                var m = ws.AsSpan(0, nn);
                var g = ws.AsSpan(nn, nn);
                var basis = ws.AsSpan(2 * nn, nn);
                var history = ws.AsSpan(3 * nn, HistoryLength(n, steps));
                Load((float*)src, b * Lanes, count, nn, m);
                Run(m, n, iterations, variant, epsilon, history, basis);
                Load((float*)grad, b * Lanes, count, nn, g);
                BackwardBlock(g, n, variant, steps, history, basis);
                Store((float*)dst, b * Lanes, count, nn, g);
            }
        });
    }

    /// <summary>
    /// Runs the projection on one block in place; with a history, records each half-step's output and divisors
    /// (exp domain) or softmax (log domain), and the variant's basis (exp(x - max), the first softmax, or the output).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run(Span<Vector<float>> m, int n, int iterations, SinkhornVariant variant, float epsilon,
        Span<Vector<float>> history, Span<Vector<float>> basis)
    {
        int nn = n * n, h = 0;
        bool record = !history.IsEmpty;
        switch (variant)
        {
            case SinkhornVariant.ExpFirst when n == 4 && !ForceGeneral:
                Sinkhorn4.ExpFirst(m, iterations, history, basis);
                break;
            case SinkhornVariant.ExpFirst:
            {
                var max = m[0];
                for (int e = 1; e < nn; e++) max = Vector.Max(max, m[e]);
                for (int e = 0; e < nn; e++) m[e] = Vector.Exp(m[e] - max);
                if (record) m.CopyTo(basis);
                for (int k = 0; k < iterations; k++)
                {
                    Normalize(m, n, columns: true, Vector<float>.Zero, Slot(history, h++, n));
                    Normalize(m, n, columns: false, Vector<float>.Zero, Slot(history, h++, n));
                }
                break;
            }
            case SinkhornVariant.SoftmaxFirst:
            {
                var eps = new Vector<float>(epsilon);
                for (int j = 0; j < n; j++)
                {
                    var max = m[j];
                    for (int i = 1; i < n; i++) max = Vector.Max(max, m[i * n + j]);
                    var sum = Vector<float>.Zero;
                    for (int i = 0; i < n; i++) sum += m[i * n + j] = Vector.Exp(m[i * n + j] - max);
                    for (int i = 0; i < n; i++) m[i * n + j] /= sum;
                }
                if (record) m.CopyTo(basis);
                for (int e = 0; e < nn; e++) m[e] += eps;
                Normalize(m, n, columns: false, eps, Slot(history, h++, n));
                for (int k = 1; k < iterations; k++)
                {
                    Normalize(m, n, columns: true, eps, Slot(history, h++, n));
                    Normalize(m, n, columns: false, eps, Slot(history, h++, n));
                }
                break;
            }
            default:
            {
                for (int k = 0; k < iterations; k++)
                {
                    NormalizeLog(m, n, columns: true, Slot(history, h++, n));
                    NormalizeLog(m, n, columns: false, Slot(history, h++, n));
                }
                for (int e = 0; e < nn; e++) m[e] = Vector.Exp(m[e]);
                if (record) m.CopyTo(basis);
                break;
            }
        }
    }

    /// <summary>Turns the output gradient <paramref name="g"/> of a block run with a history into the logits' gradient, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardBlock(Span<Vector<float>> g, int n, SinkhornVariant variant, int steps,
        Span<Vector<float>> history, Span<Vector<float>> basis)
    {
        int nn = n * n;
        if (variant == SinkhornVariant.ExpFirst && n == 4 && !ForceGeneral)
        {
            Sinkhorn4.ExpFirstBackward(g, steps, history, basis);
            return;
        }
        if (variant == SinkhornVariant.LogDomain)
            for (int e = 0; e < nn; e++) g[e] *= basis[e];                // out = exp(l)
        for (int h = steps - 1; h >= 0; h--)
        {
            bool columns = variant == SinkhornVariant.SoftmaxFirst ? h % 2 == 1 : h % 2 == 0;
            var slot = Slot(history, h, n);
            if (variant == SinkhornVariant.LogDomain) NormalizeLogBackward(g, n, columns, slot);
            else NormalizeBackward(g, n, columns, slot);
        }
        switch (variant)
        {
            case SinkhornVariant.ExpFirst:
                for (int e = 0; e < nn; e++) g[e] *= basis[e];            // m0 = exp(x - max), max held constant
                break;
            case SinkhornVariant.SoftmaxFirst:
                for (int j = 0; j < n; j++)                                // softmax over each column
                {
                    var dot = Vector<float>.Zero;
                    for (int i = 0; i < n; i++) dot += g[i * n + j] * basis[i * n + j];
                    for (int i = 0; i < n; i++) g[i * n + j] = basis[i * n + j] * (g[i * n + j] - dot);
                }
                break;
        }
    }

    /// <summary>
    /// Divides each column (or row) by its sum plus <paramref name="eps"/>, as one reciprocal and n products (a
    /// division costs several products); records the result and the reciprocals.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize(Span<Vector<float>> m, int n, bool columns, Vector<float> eps, Span<Vector<float>> record)
    {
        for (int a = 0; a < n; a++)
        {
            int first = columns ? a : a * n, stride = columns ? n : 1;
            var sum = m[first];
            for (int k = 1; k < n; k++) sum += m[first + k * stride];
            var inverse = Vector<float>.One / (sum + eps);
            for (int k = 0; k < n; k++) m[first + k * stride] *= inverse;
            if (!record.IsEmpty) record[n * n + a] = inverse;
        }
        if (!record.IsEmpty) m.CopyTo(record);
    }

    /// <summary>y = m / s along an axis: dm = (dy - sum(dy * y)) / s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeBackward(Span<Vector<float>> g, int n, bool columns, Span<Vector<float>> record)
    {
        for (int a = 0; a < n; a++)
        {
            int first = columns ? a : a * n, stride = columns ? n : 1;
            var dot = Vector<float>.Zero;
            for (int k = 0; k < n; k++) dot += g[first + k * stride] * record[first + k * stride];
            var inverse = record[n * n + a];
            for (int k = 0; k < n; k++) g[first + k * stride] = (g[first + k * stride] - dot) * inverse;
        }
    }

    /// <summary>Subtracts each column's (or row's) log-sum-exp; records the softmax along it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeLog(Span<Vector<float>> l, int n, bool columns, Span<Vector<float>> record)
    {
        Span<Vector<float>> e = stackalloc Vector<float>[n];
        for (int a = 0; a < n; a++)
        {
            int first = columns ? a : a * n, stride = columns ? n : 1;
            var max = l[first];
            for (int k = 1; k < n; k++) max = Vector.Max(max, l[first + k * stride]);
            var sum = Vector<float>.Zero;
            for (int k = 0; k < n; k++) sum += e[k] = Vector.Exp(l[first + k * stride] - max);
            var lse = max + Vector.Log(sum);
            for (int k = 0; k < n; k++)
            {
                l[first + k * stride] -= lse;
                if (!record.IsEmpty) record[first + k * stride] = e[k] / sum;
            }
        }
    }

    /// <summary>l' = l - lse(l) along an axis: dl = dl' - softmax(l) * sum(dl').</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeLogBackward(Span<Vector<float>> g, int n, bool columns, Span<Vector<float>> record)
    {
        for (int a = 0; a < n; a++)
        {
            int first = columns ? a : a * n, stride = columns ? n : 1;
            var sum = Vector<float>.Zero;
            for (int k = 0; k < n; k++) sum += g[first + k * stride];
            for (int k = 0; k < n; k++) g[first + k * stride] -= record[first + k * stride] * sum;
        }
    }

    /// <summary>Vectors of history a backward block needs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int HistoryLength(int n, int steps) => steps * (n * n + n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Span<Vector<float>> Slot(Span<Vector<float>> history, int h, int n) =>
        history.IsEmpty ? default : history.Slice(h * (n * n + n), n * n + n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector<float>[] Workspace(int n, int steps)
    {
        int needed = 3 * n * n + HistoryLength(n, steps);
        if (workspace is null || workspace.Length < needed) workspace = new Vector<float>[needed];
        return workspace;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Load(float* source, long first, long count, int nn, Span<Vector<float>> into) =>
        VectorOps.Gather(source, first, count, nn, nn, into, Staging(nn));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Store(float* target, long first, long count, int nn, Span<Vector<float>> from) =>
        VectorOps.Scatter(target, first, count, nn, nn, from, Staging(nn));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float[] Staging(int nn)
    {
        if (staging is null || staging.Length < nn * Lanes) staging = new float[nn * Lanes];
        return staging;
    }
}
