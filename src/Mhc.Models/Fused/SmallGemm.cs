using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>
/// Row-major products of the small matrices a stage transition's shortcut projection makes per sample (a 1x1
/// convolution is W (M x K) times the image as K channels x P positions, with K and M 16 to 64 here), blocked so that
/// the accumulators stay in registers. At these sizes libtorch's convolution spends as long converting the images to
/// and from its blocked layout as multiplying them; these products read and write the channels-first layout the
/// streams already have.
/// </summary>
internal static unsafe class SmallGemm
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>
    /// C = initScale init + A B: A is M x K, B is K x N, C and init M x N (init may be null: zero). C must not
    /// overlap A or B.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(int m, int k, int n, float* a, float* b, float* c, float* init, float initScale)
    {
        int o = 0;
        for (; o + 4 <= m; o += 4) FourRows(k, n, a + (long)o * k, b, c + (long)o * n, init == null ? null : init + (long)o * n, initScale);
        for (; o < m; o++) OneRow(k, n, a + (long)o * k, b, c + (long)o * n, init == null ? null : init + (long)o * n, initScale);
    }

    /// <summary>
    /// acc[o, q] += sum_s sum_p D_s[o, p] Z_s[q, p] (acc += sum_s D_s Z_s^T) over <paramref name="pairs"/> pairs:
    /// D_s = d + s <paramref name="dStride"/> is M x P, Z_s = z + s <paramref name="zStride"/> is K x P, acc M x K.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddProductTransposed(int m, int k, int p, int pairs, float* d, long dStride, float* z, long zStride, float* acc)
    {
        int o = 0;
        for (; o + 4 <= m; o += 4)
        {
            int q = 0;
            for (; q + 4 <= k; q += 4) Block4x4(p, pairs, d + (long)o * p, dStride, z + (long)q * p, zStride, acc + (long)o * k + q, k);
            for (; q < k; q++)
                for (int r = 0; r < 4; r++)
                    for (int s = 0; s < pairs; s++)
                        acc[(long)(o + r) * k + q] += VectorOps.Dot(d + s * dStride + (long)(o + r) * p, z + s * zStride + (long)q * p, p);
        }
        for (; o < m; o++)
            for (int q = 0; q < k; q++)
                for (int s = 0; s < pairs; s++)
                    acc[(long)o * k + q] += VectorOps.Dot(d + s * dStride + (long)o * p, z + s * zStride + (long)q * p, p);
    }

    // Four rows of C: twelve accumulators (4 rows x 3 vectors of columns), one load of B shared by four rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows(int k, int n, float* a, float* b, float* c, float* init, float initScale)
    {
        float* a1 = a + k, a2 = a + 2 * k, a3 = a + 3 * k;
        var s = new Vector<float>(initScale);
        int p = 0;
        for (; p + 3 * Lanes <= n; p += 3 * Lanes)
        {
            Vector<float> c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
            if (init != null)
            {
                c00 = Init(init, n, 0, p, s); c01 = Init(init, n, 0, p + Lanes, s); c02 = Init(init, n, 0, p + 2 * Lanes, s);
                c10 = Init(init, n, 1, p, s); c11 = Init(init, n, 1, p + Lanes, s); c12 = Init(init, n, 1, p + 2 * Lanes, s);
                c20 = Init(init, n, 2, p, s); c21 = Init(init, n, 2, p + Lanes, s); c22 = Init(init, n, 2, p + 2 * Lanes, s);
                c30 = Init(init, n, 3, p, s); c31 = Init(init, n, 3, p + Lanes, s); c32 = Init(init, n, 3, p + 2 * Lanes, s);
            }
            else
            {
                c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = Vector<float>.Zero;
            }
            float* bp = b + p;
            for (int q = 0; q < k; q++, bp += n)
            {
                Vector<float> b0 = VectorOps.Load(bp), b1 = VectorOps.Load(bp + Lanes), b2 = VectorOps.Load(bp + 2 * Lanes);
                var w = new Vector<float>(a[q]);
                c00 = VectorOps.Fma(w, b0, c00); c01 = VectorOps.Fma(w, b1, c01); c02 = VectorOps.Fma(w, b2, c02);
                w = new Vector<float>(a1[q]);
                c10 = VectorOps.Fma(w, b0, c10); c11 = VectorOps.Fma(w, b1, c11); c12 = VectorOps.Fma(w, b2, c12);
                w = new Vector<float>(a2[q]);
                c20 = VectorOps.Fma(w, b0, c20); c21 = VectorOps.Fma(w, b1, c21); c22 = VectorOps.Fma(w, b2, c22);
                w = new Vector<float>(a3[q]);
                c30 = VectorOps.Fma(w, b0, c30); c31 = VectorOps.Fma(w, b1, c31); c32 = VectorOps.Fma(w, b2, c32);
            }
            Store3(c + p, c00, c01, c02);
            Store3(c + n + p, c10, c11, c12);
            Store3(c + 2 * n + p, c20, c21, c22);
            Store3(c + 3 * n + p, c30, c31, c32);
        }
        for (; p + Lanes <= n; p += Lanes) FourRowsVector(k, n, p, a, b, c, init, s);
        // The last columns: one more vector ending at the last column, overlapping columns already written with the
        // same values (C is not accumulated into, and overlaps neither A, B nor init).
        if (p < n && n >= Lanes) FourRowsVector(k, n, n - Lanes, a, b, c, init, s);
        else for (int r = 0; r < 4; r++) Tail(k, n, p, a + r * k, b, c + (long)r * n, init == null ? null : init + (long)r * n, initScale);
    }

    // One vector of columns [p, p + Lanes) of four rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRowsVector(int k, int n, int p, float* a, float* b, float* c, float* init, Vector<float> s)
    {
        Vector<float> c0, c1, c2, c3;
        if (init != null) (c0, c1, c2, c3) = (Init(init, n, 0, p, s), Init(init, n, 1, p, s), Init(init, n, 2, p, s), Init(init, n, 3, p, s));
        else c0 = c1 = c2 = c3 = Vector<float>.Zero;
        float* a1 = a + k, a2 = a + 2 * k, a3 = a + 3 * k;
        float* bp = b + p;
        for (int q = 0; q < k; q++, bp += n)
        {
            var b0 = VectorOps.Load(bp);
            c0 = VectorOps.Fma(new Vector<float>(a[q]), b0, c0);
            c1 = VectorOps.Fma(new Vector<float>(a1[q]), b0, c1);
            c2 = VectorOps.Fma(new Vector<float>(a2[q]), b0, c2);
            c3 = VectorOps.Fma(new Vector<float>(a3[q]), b0, c3);
        }
        VectorOps.Store(c + p, c0);
        VectorOps.Store(c + n + p, c1);
        VectorOps.Store(c + 2 * n + p, c2);
        VectorOps.Store(c + 3 * n + p, c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneRow(int k, int n, float* a, float* b, float* c, float* init, float initScale)
    {
        var s = new Vector<float>(initScale);
        int p = 0;
        for (; p + Lanes <= n; p += Lanes)
        {
            var acc = init != null ? Init(init, n, 0, p, s) : Vector<float>.Zero;
            for (int q = 0; q < k; q++) acc = VectorOps.Fma(new Vector<float>(a[q]), VectorOps.Load(b + (long)q * n + p), acc);
            VectorOps.Store(c + p, acc);
        }
        Tail(k, n, p, a, b, c, init, initScale);
    }

    // The last columns (fewer than a vector) of one row.
    private static void Tail(int k, int n, int from, float* a, float* b, float* c, float* init, float initScale)
    {
        for (int p = from; p < n; p++)
        {
            float acc = init != null ? initScale * init[p] : 0f;
            for (int q = 0; q < k; q++) acc += a[q] * b[(long)q * n + p];
            c[p] = acc;
        }
    }

    // acc[r, q] += D[r] . Z[q] for a 4 x 4 block: sixteen accumulators, eight loads per column chunk.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4(int p, int pairs, float* dFirst, long dStride, float* zFirst, long zStride, float* acc, int stride)
    {
        Vector<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        Span<float> t = stackalloc float[16];
        t.Clear();
        // The last columns as one vector ending at the last column, its columns already summed masked out.
        int whole = p / Lanes * Lanes;
        var tailMask = p >= Lanes && whole < p ? TailMask(p - whole) : Vector<int>.Zero;
        for (int pair = 0; pair < pairs; pair++)
        {
            float* d = dFirst + pair * dStride, z = zFirst + pair * zStride;
            float* d1 = d + p, d2 = d + 2 * p, d3 = d + 3 * p, z1 = z + p, z2 = z + 2 * p, z3 = z + 3 * p;
            int c = 0;
            while (c < p)
            {
                Vector<float> v0, v1, v2, v3;
                bool last = c + Lanes > p;
                if (!last) (v0, v1, v2, v3) = (VectorOps.Load(z + c), VectorOps.Load(z1 + c), VectorOps.Load(z2 + c), VectorOps.Load(z3 + c));
                else if (p >= Lanes)
                {
                    c = p - Lanes;
                    (v0, v1, v2, v3) = (Masked(z + c, tailMask), Masked(z1 + c, tailMask), Masked(z2 + c, tailMask), Masked(z3 + c, tailMask));
                }
                else break;                                     // shorter than a vector: the scalar loop below
                var u = VectorOps.Load(d + c);
                s00 = VectorOps.Fma(u, v0, s00); s01 = VectorOps.Fma(u, v1, s01); s02 = VectorOps.Fma(u, v2, s02); s03 = VectorOps.Fma(u, v3, s03);
                u = VectorOps.Load(d1 + c);
                s10 = VectorOps.Fma(u, v0, s10); s11 = VectorOps.Fma(u, v1, s11); s12 = VectorOps.Fma(u, v2, s12); s13 = VectorOps.Fma(u, v3, s13);
                u = VectorOps.Load(d2 + c);
                s20 = VectorOps.Fma(u, v0, s20); s21 = VectorOps.Fma(u, v1, s21); s22 = VectorOps.Fma(u, v2, s22); s23 = VectorOps.Fma(u, v3, s23);
                u = VectorOps.Load(d3 + c);
                s30 = VectorOps.Fma(u, v0, s30); s31 = VectorOps.Fma(u, v1, s31); s32 = VectorOps.Fma(u, v2, s32); s33 = VectorOps.Fma(u, v3, s33);
                c = last ? p : c + Lanes;
            }
            for (; c < p; c++)
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++) t[r * 4 + q] += d[(long)r * p + c] * z[(long)q * p + c];
        }
        t[0] += Vector.Sum(s00); t[1] += Vector.Sum(s01); t[2] += Vector.Sum(s02); t[3] += Vector.Sum(s03);
        t[4] += Vector.Sum(s10); t[5] += Vector.Sum(s11); t[6] += Vector.Sum(s12); t[7] += Vector.Sum(s13);
        t[8] += Vector.Sum(s20); t[9] += Vector.Sum(s21); t[10] += Vector.Sum(s22); t[11] += Vector.Sum(s23);
        t[12] += Vector.Sum(s30); t[13] += Vector.Sum(s31); t[14] += Vector.Sum(s32); t[15] += Vector.Sum(s33);
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < 4; q++) acc[(long)r * stride + q] += t[r * 4 + q];
    }

    // Lanes below Lanes - count off, the last count on.
    private static Vector<int> TailMask(int count)
    {
        Span<int> lanes = stackalloc int[Lanes];
        for (int l = 0; l < Lanes; l++) lanes[l] = l >= Lanes - count ? -1 : 0;
        return new Vector<int>(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Masked(float* p, Vector<int> mask) =>
        Vector.ConditionalSelect(mask, VectorOps.Load(p), Vector<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Init(float* init, int n, int row, int column, Vector<float> scale) =>
        VectorOps.Load(init + (long)row * n + column) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(float* c, Vector<float> v0, Vector<float> v1, Vector<float> v2)
    {
        VectorOps.Store(c, v0);
        VectorOps.Store(c + Lanes, v1);
        VectorOps.Store(c + 2 * Lanes, v2);
    }
}
