using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>
/// The inner loops of the stream update for n = 4 streams (the default expansion rate) with every coefficient and
/// stream chunk held in registers: the generic loops keep them in stack arrays and spend more time on loads and
/// loop control than on the multiply-adds. Each routine covers the columns [0, end) in whole vectors and returns
/// end; the caller does the remaining columns one at a time.
/// </summary>
internal static unsafe class StreamMix4
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>out[i] = post[i] y + sum_j res[i, j] x[j] (mHC eq. 3); x and out are 4 x m, res row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Forward(int m, float* x, float* y, float* post, float* res, float* output)
    {
        Vector<float> p0 = new(post[0]), p1 = new(post[1]), p2 = new(post[2]), p3 = new(post[3]);
        Vector<float> r00 = new(res[0]), r01 = new(res[1]), r02 = new(res[2]), r03 = new(res[3]);
        Vector<float> r10 = new(res[4]), r11 = new(res[5]), r12 = new(res[6]), r13 = new(res[7]);
        Vector<float> r20 = new(res[8]), r21 = new(res[9]), r22 = new(res[10]), r23 = new(res[11]);
        Vector<float> r30 = new(res[12]), r31 = new(res[13]), r32 = new(res[14]), r33 = new(res[15]);
        float* x1 = x + m, x2 = x + 2 * m, x3 = x + 3 * m;
        float* o1 = output + m, o2 = output + 2 * m, o3 = output + 3 * m;
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
        {
            var yv = VectorOps.Load(y + c);
            Vector<float> a = VectorOps.Load(x + c), b = VectorOps.Load(x1 + c), d = VectorOps.Load(x2 + c), e = VectorOps.Load(x3 + c);
            VectorOps.Store(output + c, Mix(yv * p0, a, b, d, e, r00, r01, r02, r03));
            VectorOps.Store(o1 + c, Mix(yv * p1, a, b, d, e, r10, r11, r12, r13));
            VectorOps.Store(o2 + c, Mix(yv * p2, a, b, d, e, r20, r21, r22, r23));
            VectorOps.Store(o3 + c, Mix(yv * p3, a, b, d, e, r30, r31, r32, r33));
        }
        return c;
    }

    /// <summary>
    /// out[i] = sum_j res[i, j] x[j] (res row-major) or sum_j res[j, i] x[j] (<paramref name="transposed"/>), x and out
    /// 4 x m, in one pass: each chunk of the four inputs is loaded once for the four outputs. Covers all m columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mix(int m, float* x, float* res, bool transposed, float* output)
    {
        float* r = stackalloc float[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) r[i * 4 + j] = transposed ? res[j * 4 + i] : res[i * 4 + j];
        Vector<float> r00 = new(r[0]), r01 = new(r[1]), r02 = new(r[2]), r03 = new(r[3]);
        Vector<float> r10 = new(r[4]), r11 = new(r[5]), r12 = new(r[6]), r13 = new(r[7]);
        Vector<float> r20 = new(r[8]), r21 = new(r[9]), r22 = new(r[10]), r23 = new(r[11]);
        Vector<float> r30 = new(r[12]), r31 = new(r[13]), r32 = new(r[14]), r33 = new(r[15]);
        float* x1 = x + m, x2 = x + 2 * m, x3 = x + 3 * m;
        float* o1 = output + m, o2 = output + 2 * m, o3 = output + 3 * m;
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
        {
            Vector<float> a = VectorOps.Load(x + c), b = VectorOps.Load(x1 + c), d = VectorOps.Load(x2 + c), e = VectorOps.Load(x3 + c);
            VectorOps.Store(output + c, Mix(a * r00, b, d, e, r01, r02, r03));
            VectorOps.Store(o1 + c, Mix(a * r10, b, d, e, r11, r12, r13));
            VectorOps.Store(o2 + c, Mix(a * r20, b, d, e, r21, r22, r23));
            VectorOps.Store(o3 + c, Mix(a * r30, b, d, e, r31, r32, r33));
        }
        for (; c < m; c++)
            for (int i = 0; i < 4; i++)
                output[i * m + c] = r[i * 4] * x[c] + r[i * 4 + 1] * x1[c] + r[i * 4 + 2] * x2[c] + r[i * 4 + 3] * x3[c];
    }

    /// <summary>
    /// dRes[i, j] = g[i] . x[j] (row-major) for 4 x m streams x and g, in one pass over both: the 16 dot products share
    /// their loads (<see cref="SmallGemm.AddProductTransposed"/> on one 4 x 4 block).
    /// </summary>
    public static void Products(int m, float* x, float* g, float* dRes)
    {
        new Span<float>(dRes, 16).Clear();
        SmallGemm.AddProductTransposed(4, 4, m, 1, g, 0, x, 0, dRes);
    }

    /// <summary>u = sum_k pre[k] x[k], the branch input (mHC eq. 3); x is 4 x m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int ReadOut(int m, float* x, float* pre, float* u)
    {
        Vector<float> p0 = new(pre[0]), p1 = new(pre[1]), p2 = new(pre[2]), p3 = new(pre[3]);
        float* x1 = x + m, x2 = x + 2 * m, x3 = x + 3 * m;
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
            VectorOps.Store(u + c, Mix(VectorOps.Load(x + c) * p0, VectorOps.Load(x1 + c), VectorOps.Load(x2 + c), VectorOps.Load(x3 + c), p1, p2, p3));
        return c;
    }

    /// <summary>
    /// The transposed update: dy = sum_i post[i] g[i] (when <paramref name="dy"/> is given) and
    /// dx[j] = sum_i res[i, j] g[i] + pre[j] du (the du term when <paramref name="du"/> is given; dx when given).
    /// g (4 x m) may be null when only the du term is wanted. With <paramref name="x"/>, dx[j] also takes the
    /// per-token state's term scale x[j] + phiTerm[j] (phiTerm 4 x m; it may be dx itself). With
    /// <paramref name="y"/>, also dPost[i] = g[i] . y over the columns covered (the caller adds the rest).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Backward(int m, float* g, float* post, float* res, float* dy, float* pre, float* du, float* dx,
        float* x = null, float scale = 0f, float* phiTerm = null, float* y = null, float* dPost = null)
    {
        bool hasG = g != null, hasDu = du != null, hasDy = dy != null && hasG, hasDx = dx != null;
        if (!hasG && !hasDx) return 0;
        bool hasBase = x != null;
        var sc = new Vector<float>(scale);
        Vector<float> p0 = default, p1 = default, p2 = default, p3 = default;
        if (hasDy) (p0, p1, p2, p3) = (new(post[0]), new(post[1]), new(post[2]), new(post[3]));
        Vector<float> q0 = default, q1 = default, q2 = default, q3 = default;
        if (hasDu) (q0, q1, q2, q3) = (new(pre[0]), new(pre[1]), new(pre[2]), new(pre[3]));
        Vector<float> r00 = new(res[0]), r01 = new(res[1]), r02 = new(res[2]), r03 = new(res[3]);
        Vector<float> r10 = new(res[4]), r11 = new(res[5]), r12 = new(res[6]), r13 = new(res[7]);
        Vector<float> r20 = new(res[8]), r21 = new(res[9]), r22 = new(res[10]), r23 = new(res[11]);
        Vector<float> r30 = new(res[12]), r31 = new(res[13]), r32 = new(res[14]), r33 = new(res[15]);
        float* dx1 = dx + m, dx2 = dx + 2 * m, dx3 = dx + 3 * m;
        int c = 0;
        if (!hasG && !hasBase)
        {
            // No output gradient (the write-in node's went to a projection): dx[j] = pre[j] du.
            for (; c + Lanes <= m; c += Lanes)
            {
                var u = hasDu ? VectorOps.Load(du + c) : Vector<float>.Zero;
                VectorOps.Store(dx + c, u * q0);
                VectorOps.Store(dx1 + c, u * q1);
                VectorOps.Store(dx2 + c, u * q2);
                VectorOps.Store(dx3 + c, u * q3);
            }
            return c;
        }
        bool hasPost = y != null && hasG;
        Vector<float> t0 = default, t1 = default, t2 = default, t3 = default;
        for (; c + Lanes <= m; c += Lanes)
        {
            Vector<float> a = default, b = default, d = default, e = default;
            if (hasG) (a, b, d, e) = (VectorOps.Load(g + c), VectorOps.Load(g + m + c), VectorOps.Load(g + 2 * m + c), VectorOps.Load(g + 3 * m + c));
            if (hasDy) VectorOps.Store(dy + c, Mix(a * p0, b, d, e, p1, p2, p3));
            if (hasPost)
            {
                var yv = VectorOps.Load(y + c);
                (t0, t1, t2, t3) = (VectorOps.Fma(a, yv, t0), VectorOps.Fma(b, yv, t1), VectorOps.Fma(d, yv, t2), VectorOps.Fma(e, yv, t3));
            }
            if (!hasDx) continue;
            var u = hasDu ? VectorOps.Load(du + c) : Vector<float>.Zero;
            Vector<float> s0 = u * q0, s1 = u * q1, s2 = u * q2, s3 = u * q3;
            if (hasBase)
            {
                s0 += VectorOps.Fma(VectorOps.Load(x + c), sc, VectorOps.Load(phiTerm + c));
                s1 += VectorOps.Fma(VectorOps.Load(x + m + c), sc, VectorOps.Load(phiTerm + m + c));
                s2 += VectorOps.Fma(VectorOps.Load(x + 2 * m + c), sc, VectorOps.Load(phiTerm + 2 * m + c));
                s3 += VectorOps.Fma(VectorOps.Load(x + 3 * m + c), sc, VectorOps.Load(phiTerm + 3 * m + c));
            }
            // Column j of res: dx[j] = res[0, j] g0 + res[1, j] g1 + res[2, j] g2 + res[3, j] g3 + the rest.
            VectorOps.Store(dx + c, Mix(s0, a, b, d, e, r00, r10, r20, r30));
            VectorOps.Store(dx1 + c, Mix(s1, a, b, d, e, r01, r11, r21, r31));
            VectorOps.Store(dx2 + c, Mix(s2, a, b, d, e, r02, r12, r22, r32));
            VectorOps.Store(dx3 + c, Mix(s3, a, b, d, e, r03, r13, r23, r33));
        }
        if (hasPost) (dPost[0], dPost[1], dPost[2], dPost[3]) = (Vector.Sum(t0), Vector.Sum(t1), Vector.Sum(t2), Vector.Sum(t3));
        return c;
    }

    /// <summary>
    /// The read-out's coefficient gradients of one row in a single pass over its streams: dPre[k] = du . x[k] and
    /// dRes[i, j] = g[i] . x[j] (row-major), 20 dot products sharing their loads; <paramref name="du"/> or
    /// <paramref name="g"/> may be null (their products are then 0). Covers all m columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CoefficientGradients(int m, float* x, float* du, float* g, float* dPre, float* dRes)
    {
        if (du == null || g == null)
        {
            for (int k = 0; k < 4; k++) dPre[k] = 0f;
            if (du != null)
            {
                // Only du: one pass of the general routine.
                for (int k = 0; k < 16; k++) dRes[k] = 0f;
                VectorOps.DotMany(du, x, m, 4, m, dPre);
            }
            else if (g != null) Products(m, x, g, dRes);
            else for (int k = 0; k < 16; k++) dRes[k] = 0f;
            return;
        }
        Vector<float> p0 = default, p1 = default, p2 = default, p3 = default;
        Vector<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* x1 = x + m, x2 = x + 2 * m, x3 = x + 3 * m, g1 = g + m, g2 = g + 2 * m, g3 = g + 3 * m;
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
        {
            Vector<float> v0 = VectorOps.Load(x + c), v1 = VectorOps.Load(x1 + c), v2 = VectorOps.Load(x2 + c), v3 = VectorOps.Load(x3 + c);
            var u = VectorOps.Load(du + c);
            p0 = VectorOps.Fma(u, v0, p0); p1 = VectorOps.Fma(u, v1, p1); p2 = VectorOps.Fma(u, v2, p2); p3 = VectorOps.Fma(u, v3, p3);
            var w = VectorOps.Load(g + c);
            a00 = VectorOps.Fma(w, v0, a00); a01 = VectorOps.Fma(w, v1, a01); a02 = VectorOps.Fma(w, v2, a02); a03 = VectorOps.Fma(w, v3, a03);
            w = VectorOps.Load(g1 + c);
            a10 = VectorOps.Fma(w, v0, a10); a11 = VectorOps.Fma(w, v1, a11); a12 = VectorOps.Fma(w, v2, a12); a13 = VectorOps.Fma(w, v3, a13);
            w = VectorOps.Load(g2 + c);
            a20 = VectorOps.Fma(w, v0, a20); a21 = VectorOps.Fma(w, v1, a21); a22 = VectorOps.Fma(w, v2, a22); a23 = VectorOps.Fma(w, v3, a23);
            w = VectorOps.Load(g3 + c);
            a30 = VectorOps.Fma(w, v0, a30); a31 = VectorOps.Fma(w, v1, a31); a32 = VectorOps.Fma(w, v2, a32); a33 = VectorOps.Fma(w, v3, a33);
        }
        dPre[0] = Vector.Sum(p0); dPre[1] = Vector.Sum(p1); dPre[2] = Vector.Sum(p2); dPre[3] = Vector.Sum(p3);
        dRes[0] = Vector.Sum(a00); dRes[1] = Vector.Sum(a01); dRes[2] = Vector.Sum(a02); dRes[3] = Vector.Sum(a03);
        dRes[4] = Vector.Sum(a10); dRes[5] = Vector.Sum(a11); dRes[6] = Vector.Sum(a12); dRes[7] = Vector.Sum(a13);
        dRes[8] = Vector.Sum(a20); dRes[9] = Vector.Sum(a21); dRes[10] = Vector.Sum(a22); dRes[11] = Vector.Sum(a23);
        dRes[12] = Vector.Sum(a30); dRes[13] = Vector.Sum(a31); dRes[14] = Vector.Sum(a32); dRes[15] = Vector.Sum(a33);
        for (; c < m; c++)
        {
            for (int j = 0; j < 4; j++)
            {
                float xj = x[j * m + c];
                dPre[j] += du[c] * xj;
                for (int i = 0; i < 4; i++) dRes[i * 4 + j] += g[i * m + c] * xj;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Mix(Vector<float> start, Vector<float> a, Vector<float> b, Vector<float> d, Vector<float> e,
        Vector<float> w0, Vector<float> w1, Vector<float> w2, Vector<float> w3) =>
        VectorOps.Fma(e, w3, VectorOps.Fma(d, w2, VectorOps.Fma(b, w1, VectorOps.Fma(a, w0, start))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Mix(Vector<float> start, Vector<float> b, Vector<float> d, Vector<float> e,
        Vector<float> w1, Vector<float> w2, Vector<float> w3) =>
        VectorOps.Fma(e, w3, VectorOps.Fma(d, w2, VectorOps.Fma(b, w1, start)));
}
