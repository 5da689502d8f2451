using System.Numerics;

namespace Mhc.Models.Fused;

/// <summary>
/// The second half of a hyper-connection, fused: X' = H_res X + H_post y (mHC eq. 3, the paper's sec. 4.3.1 fused
/// update) in one pass over the rows, and its backward. The backward always gives y's and H_post's gradients; the
/// gradients of X and H_res it gives only when asked (a projected X); otherwise <see cref="MixInKernel"/> computes
/// them in its own pass over X, which it makes anyway.
/// </summary>
internal static unsafe class MixOutKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>out = H_res X + H_post y per row; X and out are rows x n x M, y rows x M, coefficients rows x Q.</summary>
    public static void Forward(int n, long rows, int m, float* x, float* coefficients, float* y, float* output)
    {
        nint xa = (nint)x, ca = (nint)coefficients, ya = (nint)y, oa = (nint)output;
        int q = n * n + 2 * n;
        KernelParallel.For(rows, Math.Max(1, 32768 / Math.Max(1, m)), (start, end) =>
        {
            Span<Vector<float>> resV = stackalloc Vector<float>[n * n];
            for (long t = start; t < end; t++)
            {
                float* xr = (float*)xa + t * n * m, yr = (float*)ya + t * m, outRow = (float*)oa + t * n * m;
                float* post = (float*)ca + t * q + n, res = post + n;
                VectorOps.Broadcast(res, n * n, resV);
                for (int i = 0; i < n; i++)
                {
                    var postV = new Vector<float>(post[i]);
                    int c = 0;
                    for (; c + Lanes <= m; c += Lanes)
                    {
                        var acc = VectorOps.Load(yr + c) * postV;
                        for (int j = 0; j < n; j++) acc += VectorOps.Load(xr + j * m + c) * resV[i * n + j];
                        VectorOps.Store(outRow + i * m + c, acc);
                    }
                    for (; c < m; c++)
                    {
                        float acc = yr[c] * post[i];
                        for (int j = 0; j < n; j++) acc += xr[j * m + c] * res[i * n + j];
                        outRow[i * m + c] = acc;
                    }
                }
            }
        });
    }

    /// <summary>
    /// dy = sum_i H_post[i] dOut[i] and dCoefficients (post part; res part too when <paramref name="dx"/> is given,
    /// zero otherwise), and, when <paramref name="dx"/> is not null, dX[j] = sum_i H_res[i, j] dOut[i].
    /// </summary>
    public static void Backward(int n, long rows, int m, float* x, float* coefficients, float* y, float* dOut,
        float* dy, float* dCoefficients, float* dx)
    {
        nint xa = (nint)x, ca = (nint)coefficients, ya = (nint)y, ga = (nint)dOut, dya = (nint)dy, dca = (nint)dCoefficients, dxa = (nint)dx;
        int q = n * n + 2 * n;
        KernelParallel.For(rows, Math.Max(1, 32768 / Math.Max(1, m)), (start, end) =>
        {
            Span<Vector<float>> postV = stackalloc Vector<float>[n];
            Span<Vector<float>> resV = stackalloc Vector<float>[n * n];
            for (long t = start; t < end; t++)
            {
                float* xr = (float*)xa + t * n * m, yr = (float*)ya + t * m, g = (float*)ga + t * n * m;
                float* post = (float*)ca + t * q + n, res = post + n;
                float* dc = (float*)dca + t * q;
                for (int k = 0; k < q; k++) dc[k] = 0f;
                for (int i = 0; i < n; i++) dc[n + i] = VectorOps.Dot(g + i * m, yr, m);
                float* dyr = (float*)dya + t * m;
                VectorOps.Broadcast(post, n, postV);
                int c = 0;
                for (; c + Lanes <= m; c += Lanes)
                {
                    var acc = VectorOps.Load(g + c) * postV[0];
                    for (int i = 1; i < n; i++) acc += VectorOps.Load(g + i * m + c) * postV[i];
                    VectorOps.Store(dyr + c, acc);
                }
                for (; c < m; c++)
                {
                    float acc = 0;
                    for (int i = 0; i < n; i++) acc += g[i * m + c] * post[i];
                    dyr[c] = acc;
                }
                if (dxa == 0) continue;
                float* dxr = (float*)dxa + t * n * m;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                        dc[2 * n + i * n + j] = VectorOps.Dot(g + i * m, xr + j * m, m);
                VectorOps.Broadcast(res, n * n, resV);
                for (int j = 0; j < n; j++)
                {
                    c = 0;
                    for (; c + Lanes <= m; c += Lanes)
                    {
                        var acc = VectorOps.Load(g + c) * resV[j];
                        for (int i = 1; i < n; i++) acc += VectorOps.Load(g + i * m + c) * resV[i * n + j];
                        VectorOps.Store(dxr + j * m + c, acc);
                    }
                    for (; c < m; c++)
                    {
                        float acc = 0;
                        for (int i = 0; i < n; i++) acc += g[i * m + c] * res[i * n + j];
                        dxr[j * m + c] = acc;
                    }
                }
            }
        });
    }
}
