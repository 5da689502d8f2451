using System.Numerics;

namespace Mhc.Models.Fused;

/// <summary>The small vector routines the fused kernels are built from (SIMD over contiguous floats or across lanes).</summary>
internal static unsafe class VectorOps
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>Sum of a[i] b[i] for i below <paramref name="length"/>.</summary>
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
            acc0 += Load(a0 + i) * v;
            acc1 += Load(a1 + i) * v;
            acc2 += Load(a2 + i) * v;
            acc3 += Load(a3 + i) * v;
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

    /// <summary>Broadcasts each of <paramref name="values"/> to a vector.</summary>
    public static void Broadcast(float* values, int count, Span<Vector<float>> into)
    {
        for (int k = 0; k < count; k++) into[k] = new Vector<float>(values[k]);
    }

    /// <summary>Sum of a[i]^2.</summary>
    public static float SumOfSquares(float* a, int length) => Dot(a, a, length);

    /// <summary>Sum of a[i].</summary>
    public static float Sum(float* a, int length)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i + Lanes <= length; i += Lanes) acc += Load(a + i);
        float sum = Vector.Sum(acc);
        for (; i < length; i++) sum += a[i];
        return sum;
    }

    /// <summary>Loads <see cref="Vector{T}.Count"/> floats from <paramref name="p"/>.</summary>
    public static Vector<float> Load(float* p) => *(Vector<float>*)p;

    /// <summary>Stores <paramref name="v"/> at <paramref name="p"/>.</summary>
    public static void Store(float* p, Vector<float> v) => *(Vector<float>*)p = v;

    /// <summary>1 / (1 + exp(-x)), lane-wise.</summary>
    public static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));

    /// <summary>tanh(x) = 1 - 2 / (exp(2x) + 1), lane-wise; saturates to +-1 without overflow.</summary>
    public static Vector<float> Tanh(Vector<float> x) =>
        Vector<float>.One - new Vector<float>(2f) / (Vector.Exp(x + x) + Vector<float>.One);

    /// <summary>Gathers lanes: <c>into[e][l] = source[(first + l) * stride + e]</c> for existing rows, 0 past <paramref name="count"/>.</summary>
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
