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
/// written and read back per step, four times the size of x).
/// </summary>
internal static unsafe class SharedStreams
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>u = (sum_k pre[k]) x over m columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReadOut(int n, int m, float* x, float* pre, float* u) => Scale(x, Sum(pre, n), u, m);

    /// <summary>out[i] = (sum_j res[i, j]) x + post[i] y for the n output streams (out is n x m).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Write(int n, int m, float* x, float* y, float* post, float* res, float* output)
    {
        for (int i = 0; i < n; i++)
        {
            float w = Sum(res + i * n, n);
            Vector<float> a = new(w), p = new(post[i]);
            float* o = output + (long)i * m;
            int c = 0;
            for (; c + Lanes <= m; c += Lanes)
                VectorOps.Store(o + c, VectorOps.Fma(VectorOps.Load(x + c), a, VectorOps.Load(y + c) * p));
            for (; c < m; c++) o[c] = x[c] * w + y[c] * post[i];
        }
    }

    /// <summary>
    /// dPre[k] = du . x for every k and dRes[i, j] = dOut[i] . x for every j (row-major); du or dOut may be null
    /// (their products are then 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CoefficientGradients(int n, int m, float* x, float* du, float* dOut, float* dPre, float* dRes)
    {
        float d = du == null ? 0f : VectorOps.Dot(du, x, m);
        for (int k = 0; k < n; k++) dPre[k] = d;
        float* e = stackalloc float[n];
        if (dOut != null) VectorOps.DotMany(x, dOut, m, n, m, e);
        else for (int i = 0; i < n; i++) e[i] = 0f;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) dRes[i * n + j] = e[i];
    }

    /// <summary>
    /// dx = (sum_k pre[k]) du + sum_i (sum_j res[i, j]) dOut[i] + constants[ch] over m columns, channel ch being
    /// columns [ch spatial, (ch + 1) spatial); du or dOut may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(int n, int m, int spatial, float* pre, float* res, float* du, float* dOut, float* constants, float* dx)
    {
        float s = Sum(pre, n);
        float* a = stackalloc float[n];
        for (int i = 0; i < n; i++) a[i] = Sum(res + i * n, n);
        for (int ch = 0; ch * spatial < m; ch++)
        {
            long offset = (long)ch * spatial;
            if (n == 4 && du != null && dOut != null)
                InputGradient4(spatial, m, s, a, constants[ch], du + offset, dOut + offset, dx + offset);
            else
            {
                new Span<float>(dx + offset, spatial).Fill(constants[ch]);
                if (du != null) VectorOps.AddScaled(dx + offset, du + offset, s, spatial);
                for (int i = 0; i < n && dOut != null; i++) VectorOps.AddScaled(dx + offset, dOut + i * (long)m + offset, a[i], spatial);
            }
        }
    }

    /// <summary>dx = k + s du + sum_i a[i] g[i] over one channel's positions (streams of g m apart), dx written once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradient4(int length, long m, float s, float* a, float k, float* du, float* g, float* dx)
    {
        Vector<float> sv = new(s), kv = new(k), v0 = new(a[0]), v1 = new(a[1]), v2 = new(a[2]), v3 = new(a[3]);
        float* g1 = g + m, g2 = g + 2 * m, g3 = g + 3 * m;
        int c = 0;
        for (; c + Lanes <= length; c += Lanes)
        {
            var acc = VectorOps.Fma(VectorOps.Load(g + c), v0, VectorOps.Fma(VectorOps.Load(du + c), sv, kv));
            acc = VectorOps.Fma(VectorOps.Load(g1 + c), v1, acc);
            acc = VectorOps.Fma(VectorOps.Load(g2 + c), v2, acc);
            VectorOps.Store(dx + c, VectorOps.Fma(VectorOps.Load(g3 + c), v3, acc));
        }
        for (; c < length; c++) dx[c] = k + du[c] * s + g[c] * a[0] + g1[c] * a[1] + g2[c] * a[2] + g3[c] * a[3];
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

    private static float Sum(float* values, int count)
    {
        float s = 0f;
        for (int k = 0; k < count; k++) s += values[k];
        return s;
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
