using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>
/// The second half of a hyper-connection, fused: X' = H_res X + H_post y (mHC eq. 3, the paper's sec. 4.3.1 fused
/// update) in one pass over the rows, and its backward. The backward always gives y's and H_post's gradients; the
/// gradients of X and H_res it gives only when asked (a projected X); otherwise <see cref="MixInKernel"/> computes
/// them in its own pass over X, which it makes anyway.
/// </summary>
/// <remarks>
/// Every loop takes a chunk of <see cref="Vector{T}.Count"/> columns of all n streams at once, so each stream is
/// read once per row (a loop per output stream would read every input stream n times); the dot products of the
/// backward read their shared operand once for four of them (<see cref="VectorOps.DotMany"/>).
/// </remarks>
internal static unsafe class MixOutKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>
    /// out = H_res X + H_post y per row; X and out are rows x n x M, y rows x M, coefficients rows x Q. With
    /// <paramref name="shared"/>, X is rows x M, one tensor standing for the n streams (<see cref="SharedStreams"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(int n, long rows, int m, float* x, float* coefficients, float* y, float* output, bool shared = false)
    {
        nint xa = (nint)x, ca = (nint)coefficients, ya = (nint)y, oa = (nint)output;
        int q = n * n + 2 * n;
        KernelParallel.For(rows, Math.Max(1, 32768 / Math.Max(1, m)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            Vector<float>* resV = stackalloc Vector<float>[n * n];
            Vector<float>* postV = stackalloc Vector<float>[n];
            Vector<float>* xs = stackalloc Vector<float>[n];
            for (long t = start; t < end; t++)
            {
                float* xr = (float*)xa + t * (shared ? 1 : n) * m, yr = (float*)ya + t * m, outRow = (float*)oa + t * n * m;
                float* post = (float*)ca + t * q + n, res = post + n;
                if (shared)
                {
                    SharedStreams.Write(n, m, xr, yr, post, res, outRow);
                    continue;
                }
                int c = 0;
                if (n == 4) c = StreamMix4.Forward(m, xr, yr, post, res, outRow);
                else
                {
                    VectorOps.Broadcast(res, n * n, new Span<Vector<float>>(resV, n * n));
                    VectorOps.Broadcast(post, n, new Span<Vector<float>>(postV, n));
                }
                for (; c + Lanes <= m; c += Lanes)
                {
                    var yv = VectorOps.Load(yr + c);
                    for (int j = 0; j < n; j++) xs[j] = VectorOps.Load(xr + j * m + c);
                    for (int i = 0; i < n; i++)
                    {
                        var acc = yv * postV[i];
                        for (int j = 0; j < n; j++) acc = VectorOps.Fma(xs[j], resV[i * n + j], acc);
                        VectorOps.Store(outRow + i * m + c, acc);
                    }
                }
                for (; c < m; c++)
                    for (int i = 0; i < n; i++)
                    {
                        float acc = yr[c] * post[i];
                        for (int j = 0; j < n; j++) acc += xr[j * m + c] * res[i * n + j];
                        outRow[i * m + c] = acc;
                    }
            }
        });
    }

    /// <summary>
    /// dy = sum_i H_post[i] dOut[i] and dCoefficients (post part; res part too when <paramref name="dx"/> is given,
    /// zero otherwise), and, when <paramref name="dx"/> is not null, dX[j] = sum_i H_res[i, j] dOut[i].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(int n, long rows, int m, float* x, float* coefficients, float* y, float* dOut,
        float* dy, float* dCoefficients, float* dx)
    {
        nint xa = (nint)x, ca = (nint)coefficients, ya = (nint)y, ga = (nint)dOut, dya = (nint)dy, dca = (nint)dCoefficients, dxa = (nint)dx;
        int q = n * n + 2 * n;
        KernelParallel.For(rows, Math.Max(1, 32768 / Math.Max(1, m)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            Vector<float>* postV = stackalloc Vector<float>[n];
            Vector<float>* resV = stackalloc Vector<float>[n * n];
            Vector<float>* gs = stackalloc Vector<float>[n];
            float* unusedPre = stackalloc float[4];
            for (long t = start; t < end; t++)
            {
                float* xr = (float*)xa + t * n * m, yr = (float*)ya + t * m, g = (float*)ga + t * n * m;
                float* post = (float*)ca + t * q + n, res = post + n;
                float* dc = (float*)dca + t * q;
                bool full = dxa != 0;
                for (int k = 0; k < n; k++) dc[k] = 0f;
                // dH_post[i] = dOut[i] . y (for n = 4 in the pass below); dH_res[i, j] = dOut[i] . X[j].
                if (n != 4) VectorOps.DotMany(yr, g, m, n, m, dc + n);
                if (full && n == 4)
                    StreamMix4.CoefficientGradients(m, xr, null, g, unusedPre, dc + 2 * n);
                else if (full)
                    for (int i = 0; i < n; i++) VectorOps.DotMany(g + i * m, xr, m, n, m, dc + 2 * n + i * n);
                else
                    for (int k = 2 * n; k < q; k++) dc[k] = 0f;
                float* dyr = (float*)dya + t * m;
                float* dxr = full ? (float*)dxa + t * n * m : null;
                int c = 0;
                if (n != 4)
                {
                    VectorOps.Broadcast(post, n, new Span<Vector<float>>(postV, n));
                    VectorOps.Broadcast(res, n * n, new Span<Vector<float>>(resV, n * n));
                }
                else
                {
                    c = StreamMix4.Backward(m, g, post, res, dyr, null, null, dxr, y: yr, dPost: dc + n);
                    for (int k = c; k < m; k++)
                        for (int i = 0; i < n; i++) dc[n + i] += g[i * m + k] * yr[k];
                }
                for (; c + Lanes <= m; c += Lanes)
                {
                    for (int i = 0; i < n; i++) gs[i] = VectorOps.Load(g + i * m + c);
                    var acc = gs[0] * postV[0];
                    for (int i = 1; i < n; i++) acc = VectorOps.Fma(gs[i], postV[i], acc);
                    VectorOps.Store(dyr + c, acc);
                    if (!full) continue;
                    for (int j = 0; j < n; j++)
                    {
                        var d = gs[0] * resV[j];
                        for (int i = 1; i < n; i++) d = VectorOps.Fma(gs[i], resV[i * n + j], d);
                        VectorOps.Store(dxr + j * m + c, d);
                    }
                }
                for (; c < m; c++)
                {
                    float acc = 0;
                    for (int i = 0; i < n; i++) acc += g[i * m + c] * post[i];
                    dyr[c] = acc;
                    if (!full) continue;
                    for (int j = 0; j < n; j++)
                    {
                        float d = 0;
                        for (int i = 0; i < n; i++) d += g[i * m + c] * res[i * n + j];
                        dxr[j * m + c] = d;
                    }
                }
            }
        });
    }
}
