using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>The small vector routines the fused kernels are built from (SIMD over contiguous floats or across lanes).</summary>
internal static unsafe class VectorOps
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>Sum of a[i] b[i] for i below <paramref name="length"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* a, float* b, int length)
    {
        var acc0 = Vector<float>.Zero;
        var acc1 = Vector<float>.Zero;
        int i = 0;
        for (; i + 2 * Lanes <= length; i += 2 * Lanes)
        {
            acc0 += Load(a + i) * Load(b + i);
            acc1 += Load(a + i + Lanes) * Load(b + i + Lanes);
        }
        for (; i + Lanes <= length; i += Lanes) acc0 += Load(a + i) * Load(b + i);
        float sum = Vector.Sum(acc0 + acc1);
        for (; i < length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>The four dot products of rows a0..a3 with b, sharing b's loads: written to result[0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot4(float* a0, float* a1, float* a2, float* a3, float* b, int length, Span<float> result)
    {
        var acc0 = Vector<float>.Zero;
        var acc1 = Vector<float>.Zero;
        var acc2 = Vector<float>.Zero;
        var acc3 = Vector<float>.Zero;
        int i = 0;
        for (; i + Lanes <= length; i += Lanes)
        {
            var v = Load(b + i);
            acc0 = Fma(Load(a0 + i), v, acc0);
            acc1 = Fma(Load(a1 + i), v, acc1);
            acc2 = Fma(Load(a2 + i), v, acc2);
            acc3 = Fma(Load(a3 + i), v, acc3);
        }
        float s0 = Vector.Sum(acc0), s1 = Vector.Sum(acc1), s2 = Vector.Sum(acc2), s3 = Vector.Sum(acc3);
        for (; i < length; i++)
        {
            s0 += a0[i] * b[i];
            s1 += a1[i] * b[i];
            s2 += a2[i] * b[i];
            s3 += a3[i] * b[i];
        }
        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    /// <summary>
    /// <see cref="Dot4"/> for two vectors b0 and b1 at once: the eight dot products of rows a0..a3 with each, every
    /// load of a row serving both (bit for bit what two <see cref="Dot4"/> calls give); written to r0[0..3], r1[0..3].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot4x2(float* a0, float* a1, float* a2, float* a3, float* b0, float* b1, int length, float* r0, float* r1)
    {
        Vector<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector<float> d0 = default, d1 = default, d2 = default, d3 = default;
        int i = 0;
        for (; i + Lanes <= length; i += Lanes)
        {
            Vector<float> v = Load(b0 + i), w = Load(b1 + i);
            var a = Load(a0 + i);
            c0 = Fma(a, v, c0); d0 = Fma(a, w, d0);
            a = Load(a1 + i);
            c1 = Fma(a, v, c1); d1 = Fma(a, w, d1);
            a = Load(a2 + i);
            c2 = Fma(a, v, c2); d2 = Fma(a, w, d2);
            a = Load(a3 + i);
            c3 = Fma(a, v, c3); d3 = Fma(a, w, d3);
        }
        float s0 = Vector.Sum(c0), s1 = Vector.Sum(c1), s2 = Vector.Sum(c2), s3 = Vector.Sum(c3);
        float t0 = Vector.Sum(d0), t1 = Vector.Sum(d1), t2 = Vector.Sum(d2), t3 = Vector.Sum(d3);
        for (; i < length; i++)
        {
            s0 += a0[i] * b0[i]; s1 += a1[i] * b0[i]; s2 += a2[i] * b0[i]; s3 += a3[i] * b0[i];
            t0 += a0[i] * b1[i]; t1 += a1[i] * b1[i]; t2 += a2[i] * b1[i]; t3 += a3[i] * b1[i];
        }
        (r0[0], r0[1], r0[2], r0[3]) = (s0, s1, s2, s3);
        (r1[0], r1[1], r1[2], r1[3]) = (t0, t1, t2, t3);
    }

    /// <summary>Broadcasts each of <paramref name="values"/> to a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Broadcast(float* values, int count, Span<Vector<float>> into)
    {
        for (int k = 0; k < count; k++) into[k] = new Vector<float>(values[k]);
    }

    /// <summary>Sum of a[i]^2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquares(float* a, int length) => Dot(a, a, length);

    /// <summary>Sum of a[i]; four accumulators, so that the adds do not wait on each other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(float* a, int length)
    {
        Vector<float> acc0 = Vector<float>.Zero, acc1 = Vector<float>.Zero, acc2 = Vector<float>.Zero, acc3 = Vector<float>.Zero;
        int i = 0;
        for (; i + 4 * Lanes <= length; i += 4 * Lanes)
        {
            acc0 += Load(a + i);
            acc1 += Load(a + i + Lanes);
            acc2 += Load(a + i + 2 * Lanes);
            acc3 += Load(a + i + 3 * Lanes);
        }
        for (; i + Lanes <= length; i += Lanes) acc0 += Load(a + i);
        float sum = Vector.Sum((acc0 + acc1) + (acc2 + acc3));
        for (; i < length; i++) sum += a[i];
        return sum;
    }

    /// <summary>
    /// The <paramref name="count"/> dot products a . b_j, b_j = b + j <paramref name="stride"/>, into
    /// <paramref name="result"/>[j]: one pass over a for all of them (four at a time in registers), where
    /// <paramref name="count"/> separate <see cref="Dot"/> calls would read a that many times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotMany(float* a, float* b, long stride, int count, int length, float* result)
    {
        int j = 0;
        for (; j + 4 <= count; j += 4)
        {
            float* bj = b + j * stride;
            Dot4(bj, bj + stride, bj + 2 * stride, bj + 3 * stride, a, length, new Span<float>(result + j, 4));
        }
        for (; j < count; j++) result[j] = Dot(a, b + j * stride, length);
    }

    /// <summary>
    /// out0 = W^T w0 and, when <paramref name="w1"/> is not null, out1 = W^T w1, for W (<paramref name="rows"/> x
    /// <paramref name="length"/>, row-major): out[e] = sum_k w[k] W[k, e], summed in k order. Four vectors of columns
    /// of both outputs stay in registers while W's rows stream past, each load of W serving both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposedProduct(float* matrix, int rows, int length, float* w0, float* w1, float* out0, float* out1)
    {
        bool two = w1 != null;
        int e = 0;
        for (; e + 4 * Lanes <= length; e += 4 * Lanes)
        {
            Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (int k = 0; k < rows; k++)
            {
                float* wk = matrix + (long)k * length + e;
                Vector<float> m0 = Load(wk), m1 = Load(wk + Lanes), m2 = Load(wk + 2 * Lanes), m3 = Load(wk + 3 * Lanes);
                var s = new Vector<float>(w0[k]);
                a0 = Fma(m0, s, a0); a1 = Fma(m1, s, a1); a2 = Fma(m2, s, a2); a3 = Fma(m3, s, a3);
                if (!two) continue;
                s = new Vector<float>(w1[k]);
                b0 = Fma(m0, s, b0); b1 = Fma(m1, s, b1); b2 = Fma(m2, s, b2); b3 = Fma(m3, s, b3);
            }
            Store(out0 + e, a0); Store(out0 + e + Lanes, a1); Store(out0 + e + 2 * Lanes, a2); Store(out0 + e + 3 * Lanes, a3);
            if (!two) continue;
            Store(out1 + e, b0); Store(out1 + e + Lanes, b1); Store(out1 + e + 2 * Lanes, b2); Store(out1 + e + 3 * Lanes, b3);
        }
        for (; e < length; e++)
        {
            float a = 0f, b = 0f;
            for (int k = 0; k < rows; k++)
            {
                float v = matrix[(long)k * length + e];
                a = MathF.FusedMultiplyAdd(v, w0[k], a);
                if (two) b = MathF.FusedMultiplyAdd(v, w1[k], b);
            }
            out0[e] = a;
            if (two) out1[e] = b;
        }
    }

    /// <summary>
    /// acc += w0 x0^T and, when <paramref name="w1"/> is not null, then + w1 x1^T, for acc (<paramref name="rows"/> x
    /// <paramref name="length"/>, row-major): acc[k, e] += w0[k] x0[e] (+ w1[k] x1[e]). Four vectors of x0 and x1 stay
    /// in registers while acc's rows go past, each load and store of acc serving both.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddOuter(float* acc, int rows, int length, float* w0, float* x0, float* w1, float* x1)
    {
        bool two = w1 != null;
        int e = 0;
        for (; e + 4 * Lanes <= length; e += 4 * Lanes)
        {
            Vector<float> a0 = Load(x0 + e), a1 = Load(x0 + e + Lanes), a2 = Load(x0 + e + 2 * Lanes), a3 = Load(x0 + e + 3 * Lanes);
            Vector<float> b0 = default, b1 = default, b2 = default, b3 = default;
            if (two) (b0, b1, b2, b3) = (Load(x1 + e), Load(x1 + e + Lanes), Load(x1 + e + 2 * Lanes), Load(x1 + e + 3 * Lanes));
            for (int k = 0; k < rows; k++)
            {
                float* ak = acc + (long)k * length + e;
                var s = new Vector<float>(w0[k]);
                Vector<float> c0 = Fma(a0, s, Load(ak)), c1 = Fma(a1, s, Load(ak + Lanes)), c2 = Fma(a2, s, Load(ak + 2 * Lanes)), c3 = Fma(a3, s, Load(ak + 3 * Lanes));
                if (two)
                {
                    s = new Vector<float>(w1[k]);
                    (c0, c1, c2, c3) = (Fma(b0, s, c0), Fma(b1, s, c1), Fma(b2, s, c2), Fma(b3, s, c3));
                }
                Store(ak, c0); Store(ak + Lanes, c1); Store(ak + 2 * Lanes, c2); Store(ak + 3 * Lanes, c3);
            }
        }
        for (; e < length; e++)
            for (int k = 0; k < rows; k++)
            {
                float v = MathF.FusedMultiplyAdd(x0[e], w0[k], acc[(long)k * length + e]);
                if (two) v = MathF.FusedMultiplyAdd(x1[e], w1[k], v);
                acc[(long)k * length + e] = v;
            }
    }

    /// <summary>Adds <paramref name="value"/> to a[i] for i below <paramref name="length"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddConstant(float* a, int length, float value)
    {
        var v = new Vector<float>(value);
        int i = 0;
        for (; i + Lanes <= length; i += Lanes) Store(a + i, Load(a + i) + v);
        for (; i < length; i++) a[i] += value;
    }

    /// <summary>a[i] += w b[i] for i below <paramref name="length"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(float* a, float* b, float w, int length)
    {
        var wv = new Vector<float>(w);
        int i = 0;
        for (; i + Lanes <= length; i += Lanes) Store(a + i, Fma(Load(b + i), wv, Load(a + i)));
        for (; i < length; i++) a[i] += w * b[i];
    }

    /// <summary>a b + c, lane-wise, fused (one rounding) where the hardware has it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.FusedMultiplyAdd(a, b, c);

    /// <summary>Loads <see cref="Vector{T}.Count"/> floats from <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Load(float* p) => *(Vector<float>*)p;

    /// <summary>Stores <paramref name="v"/> at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector<float> v) => *(Vector<float>*)p = v;

    /// <summary>1 / (1 + exp(-x)), lane-wise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));

    /// <summary>tanh(x) = 1 - 2 / (exp(2x) + 1), lane-wise; saturates to +-1 without overflow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector<float> Tanh(Vector<float> x) =>
        Vector<float>.One - new Vector<float>(2f) / (Vector.Exp(x + x) + Vector<float>.One);

    /// <summary>Gathers lanes: <c>into[e][l] = source[(first + l) * stride + e]</c> for existing rows, 0 past <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather(float* source, long first, long count, int stride, int entries, Span<Vector<float>> into, float[] stage)
    {
        int lanes = (int)Math.Min(Lanes, count - first);
        for (int l = 0; l < Lanes; l++)
        {
            float* row = source + (first + l) * stride;
            for (int e = 0; e < entries; e++) stage[e * Lanes + l] = l < lanes ? row[e] : 0f;
        }
        for (int e = 0; e < entries; e++) into[e] = new Vector<float>(stage, e * Lanes);
    }

    /// <summary>Scatters lanes back: <c>target[(first + l) * stride + e] = from[e][l]</c> for existing rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scatter(float* target, long first, long count, int stride, int entries, ReadOnlySpan<Vector<float>> from, float[] stage)
    {
        for (int e = 0; e < entries; e++) from[e].CopyTo(stage, e * Lanes);
        int lanes = (int)Math.Min(Lanes, count - first);
        for (int l = 0; l < lanes; l++)
        {
            float* row = target + (first + l) * stride;
            for (int e = 0; e < entries; e++) row[e] = stage[e * Lanes + l];
        }
    }
}
