using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>
/// The per-row loops of a fused hyper-connection whose n input streams are n copies of one tensor x: the first block
/// of a stack, right after the expansion (HC sec. 2, mHC sec. 3: the embedding is repeated n times). With X[j] = x
/// for every j, eq. (3) and its gradients reduce to products with x alone:
/// <code>
/// u = (sum_k H_pre[k]) x                      X'[i] = (sum_j H_res[i, j]) x + H_post[i] y
/// dH_pre[k] = du . x                          dH_res[i, j] = dOut[i] . x
/// dx = sum_j dX[j] = (sum_k H_pre[k]) du + sum_i (sum_j H_res[i, j]) dOut[i] (+ the state's term, summed over j)
/// </code>
/// so the n copies are never made: the forward reads x instead of n streams, and the backward writes dx instead
/// of n stream gradients that the expansion's backward would then sum (on the Hyper-ResNet's first stage, 12.8 MB
/// written and read back per step, four times the size of x). The terms with dOut need no du, so the write-in node
/// makes them all in its one pass over dOut and hands the read-out node dOut's share of dx instead of dOut.
/// </summary>
internal static unsafe class SharedStreams
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>u = (sum_k pre[k]) x over m columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReadOut(int n, int m, float* x, float* pre, float* u) => Scale(x, VectorOps.Sum(pre, n), u, m);

    /// <summary>out[i] = (sum_j res[i, j]) x + post[i] y for the n output streams (out is n x m).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Write(int n, int m, float* x, float* y, float* post, float* res, float* output)
    {
        for (int i = 0; i < n; i++)
        {
            float w = VectorOps.Sum(res + i * n, n);
            Vector<float> a = new(w), p = new(post[i]);
            float* o = output + (long)i * m;
            int c = 0;
            for (; c + Lanes <= m; c += Lanes)
                VectorOps.Store(o + c, VectorOps.Fma(VectorOps.Load(x + c), a, VectorOps.Load(y + c) * p));
            for (; c < m; c++) o[c] = x[c] * w + y[c] * post[i];
        }
    }

    /// <summary>
    /// The write-in's backward for rows whose streams are one tensor x, in one pass over dOut (rows x n x M): dy (rows x
    /// M) = sum_i H_post[i] dOut[i]; the coefficients' gradient (rows x Q): dH_post[i] = dOut[i] . y,
    /// dH_res[i, j] = dOut[i] . x, dH_pre = 0; and dOut's share of x's gradient, sum_i (sum_j H_res[i, j]) dOut[i],
    /// into <paramref name="partial"/> (rows x M) for the read-out node, which adds its own terms to it. dOut is then
    /// read once for the whole backward of the connection, not three times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputGradient(int n, long rows, int m, float* x, float* coefficients, float* y, float* dOut,
        float* dy, float* dCoefficients, float* partial)
    {
        nint xa = (nint)x, ca = (nint)coefficients, ya = (nint)y, ga = (nint)dOut, dya = (nint)dy, dca = (nint)dCoefficients, pa = (nint)partial;
        int q = n * n + 2 * n;
        KernelParallel.For(rows, Math.Max(1, 32768 / Math.Max(1, m)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            float* a = stackalloc float[n];
            float* e = stackalloc float[n];
            for (long t = start; t < end; t++)
            {
                float* xr = (float*)xa + t * m, yr = (float*)ya + t * m, g = (float*)ga + t * n * m;
                float* c = (float*)ca + t * q, dc = (float*)dca + t * q, post = c + n;
                float* dyr = (float*)dya + t * m, pr = (float*)pa + t * m;
                for (int i = 0; i < n; i++) a[i] = VectorOps.Sum(c + 2 * n + i * n, n);
                if (n == 4) OutputGradient4(m, xr, yr, g, post, a, dyr, pr, dc + n, e);
                else
                {
                    new Span<float>(dyr, m).Clear();
                    new Span<float>(pr, m).Clear();
                    for (int i = 0; i < n; i++)
                    {
                        VectorOps.AddScaled(dyr, g + (long)i * m, post[i], m);
                        VectorOps.AddScaled(pr, g + (long)i * m, a[i], m);
                    }
                    VectorOps.DotMany(yr, g, m, n, m, dc + n);
                    VectorOps.DotMany(xr, g, m, n, m, e);
                }
                for (int k = 0; k < n; k++) dc[k] = 0f;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) dc[2 * n + i * n + j] = e[i];
            }
        });
    }

    // OutputGradient's row for n = 4: the four streams of dOut loaded once for all six results.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OutputGradient4(int m, float* x, float* y, float* g, float* post, float* a, float* dy, float* partial, float* dPost, float* e)
    {
        Vector<float> p0 = new(post[0]), p1 = new(post[1]), p2 = new(post[2]), p3 = new(post[3]);
        Vector<float> a0 = new(a[0]), a1 = new(a[1]), a2 = new(a[2]), a3 = new(a[3]);
        Vector<float> t0 = default, t1 = default, t2 = default, t3 = default, e0 = default, e1 = default, e2 = default, e3 = default;
        float* g1 = g + m, g2 = g + 2 * m, g3 = g + 3 * m;
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
        {
            Vector<float> v0 = VectorOps.Load(g + c), v1 = VectorOps.Load(g1 + c), v2 = VectorOps.Load(g2 + c), v3 = VectorOps.Load(g3 + c);
            Vector<float> yv = VectorOps.Load(y + c), xv = VectorOps.Load(x + c);
            VectorOps.Store(dy + c, VectorOps.Fma(v3, p3, VectorOps.Fma(v2, p2, VectorOps.Fma(v1, p1, v0 * p0))));
            VectorOps.Store(partial + c, VectorOps.Fma(v3, a3, VectorOps.Fma(v2, a2, VectorOps.Fma(v1, a1, v0 * a0))));
            t0 = VectorOps.Fma(v0, yv, t0); t1 = VectorOps.Fma(v1, yv, t1); t2 = VectorOps.Fma(v2, yv, t2); t3 = VectorOps.Fma(v3, yv, t3);
            e0 = VectorOps.Fma(v0, xv, e0); e1 = VectorOps.Fma(v1, xv, e1); e2 = VectorOps.Fma(v2, xv, e2); e3 = VectorOps.Fma(v3, xv, e3);
        }
        (dPost[0], dPost[1], dPost[2], dPost[3]) = (Vector.Sum(t0), Vector.Sum(t1), Vector.Sum(t2), Vector.Sum(t3));
        (e[0], e[1], e[2], e[3]) = (Vector.Sum(e0), Vector.Sum(e1), Vector.Sum(e2), Vector.Sum(e3));
        for (; c < m; c++)
        {
            dy[c] = post[0] * g[c] + post[1] * g1[c] + post[2] * g2[c] + post[3] * g3[c];
            partial[c] = a[0] * g[c] + a[1] * g1[c] + a[2] * g2[c] + a[3] * g3[c];
            dPost[0] += g[c] * y[c]; dPost[1] += g1[c] * y[c]; dPost[2] += g2[c] * y[c]; dPost[3] += g3[c] * y[c];
            e[0] += g[c] * x[c]; e[1] += g1[c] * x[c]; e[2] += g2[c] * x[c]; e[3] += g3[c] * x[c];
        }
    }

    /// <summary>
    /// The read-out's share of the coefficients' gradient: dPre[k] = du . x for every k (du may be null: 0); dRes is 0
    /// here, as the write-in node gave it (<see cref="OutputGradient"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CoefficientGradients(int n, int m, float* x, float* du, float* dPre, float* dRes)
    {
        float d = du == null ? 0f : VectorOps.Dot(du, x, m);
        for (int k = 0; k < n; k++) dPre[k] = d;
        new Span<float>(dRes, n * n).Clear();
    }

    /// <summary>
    /// dx = partial + (sum_k pre[k]) du + constants[ch] over m columns, channel ch being columns
    /// [ch spatial, (ch + 1) spatial); <paramref name="partial"/> is the write-in's share (<see cref="OutputGradient"/>);
    /// du or partial may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(int n, int m, int spatial, float* pre, float* du, float* partial, float* constants, float* dx)
    {
        float sw = VectorOps.Sum(pre, n);
        var s = new Vector<float>(sw);
        for (int ch = 0; ch * spatial < m; ch++)
        {
            long offset = (long)ch * spatial;
            float* o = dx + offset, u = du + offset, p = partial + offset;
            var k = new Vector<float>(constants[ch]);
            float kw = constants[ch];
            int c = 0;
            if (du != null && partial != null)
            {
                for (; c + Lanes <= spatial; c += Lanes) VectorOps.Store(o + c, VectorOps.Fma(VectorOps.Load(u + c), s, VectorOps.Load(p + c) + k));
                for (; c < spatial; c++) o[c] = u[c] * sw + p[c] + kw;
            }
            else
                for (; c < spatial; c++) o[c] = (du != null ? u[c] * sw : 0f) + (partial != null ? p[c] : 0f) + kw;
        }
    }

    /// <summary>
    /// dx of one token row: partial + (sum_k pre[k]) du + n scale x + term, where scale x + Phi_k^T dmr is the state's
    /// gradient of copy k and <paramref name="term"/> = (sum_k Phi_k)^T dmr; partial is the write-in's share
    /// (<see cref="OutputGradient"/>); du or partial may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TokenInputGradient(int n, int m, float* pre, float* du, float* partial, float* x, float scale, float* term, float* dx)
    {
        float s = VectorOps.Sum(pre, n), k = n * scale;
        Vector<float> sv = new(s), kv = new(k);
        int c = 0;
        if (du != null && partial != null)
            for (; c + Lanes <= m; c += Lanes)
                VectorOps.Store(dx + c, VectorOps.Fma(VectorOps.Load(du + c), sv,
                    VectorOps.Fma(VectorOps.Load(x + c), kv, VectorOps.Load(partial + c) + VectorOps.Load(term + c))));
        for (; c < m; c++) dx[c] = (du != null ? du[c] * s : 0f) + (partial != null ? partial[c] : 0f) + x[c] * k + term[c];
    }

    /// <summary>
    /// Sum of the n state-gradient entries of every channel, g[j C + ch] over j, into <paramref name="into"/>[ch]
    /// (which may be g itself: entry ch is read only for channel ch).
    /// </summary>
    public static void SumOverStreams(int n, int channels, float* g, float* into)
    {
        for (int ch = 0; ch < channels; ch++)
        {
            float s = 0f;
            for (int j = 0; j < n; j++) s += g[j * channels + ch];
            into[ch] = s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale(float* a, float w, float* into, int m)
    {
        var wv = new Vector<float>(w);
        int c = 0;
        for (; c + Lanes <= m; c += Lanes) VectorOps.Store(into + c, VectorOps.Load(a + c) * wv);
        for (; c < m; c++) into[c] = a[c] * w;
    }
}
