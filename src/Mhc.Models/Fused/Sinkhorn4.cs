using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mhc.Models.Fused;

/// <summary>
/// <see cref="SinkhornKernel"/>'s exp-first Sinkhorn (the default variant) for n = 4 streams with the 16 entries held
/// in locals through all iterations: the general loops index spans and copy every half step's matrix again, which
/// costs more than the normalisation itself. Same operations in the same order as the general code, so the same bits;
/// the history has the general layout (per half step the normalised matrix, then the n inverse sums).
/// </summary>
internal static class Sinkhorn4
{
    private const int Slot = 20;

    /// <summary>In place on <paramref name="m"/> (16 vectors); records history and basis when they are not empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpFirst(Span<Vector<float>> m, int iterations, Span<Vector<float>> history, Span<Vector<float>> basis)
    {
        bool record = !history.IsEmpty;
        ref var hist = ref MemoryMarshal.GetReference(history);
        ref var mm = ref MemoryMarshal.GetReference(m[..16]);
        Vector<float> a00 = At(ref mm, 0), a01 = At(ref mm, 1), a02 = At(ref mm, 2), a03 = At(ref mm, 3);
        Vector<float> a10 = At(ref mm, 4), a11 = At(ref mm, 5), a12 = At(ref mm, 6), a13 = At(ref mm, 7);
        Vector<float> a20 = At(ref mm, 8), a21 = At(ref mm, 9), a22 = At(ref mm, 10), a23 = At(ref mm, 11);
        Vector<float> a30 = At(ref mm, 12), a31 = At(ref mm, 13), a32 = At(ref mm, 14), a33 = At(ref mm, 15);
        var max = Vector.Max(Vector.Max(Vector.Max(a00, a01), a02), a03);
        max = Vector.Max(Vector.Max(Vector.Max(Vector.Max(max, a10), a11), a12), a13);
        max = Vector.Max(Vector.Max(Vector.Max(Vector.Max(max, a20), a21), a22), a23);
        max = Vector.Max(Vector.Max(Vector.Max(Vector.Max(max, a30), a31), a32), a33);
        (a00, a01, a02, a03) = (Vector.Exp(a00 - max), Vector.Exp(a01 - max), Vector.Exp(a02 - max), Vector.Exp(a03 - max));
        (a10, a11, a12, a13) = (Vector.Exp(a10 - max), Vector.Exp(a11 - max), Vector.Exp(a12 - max), Vector.Exp(a13 - max));
        (a20, a21, a22, a23) = (Vector.Exp(a20 - max), Vector.Exp(a21 - max), Vector.Exp(a22 - max), Vector.Exp(a23 - max));
        (a30, a31, a32, a33) = (Vector.Exp(a30 - max), Vector.Exp(a31 - max), Vector.Exp(a32 - max), Vector.Exp(a33 - max));
        if (record)
            Store(ref MemoryMarshal.GetReference(basis[..16]), a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
        int h = 0;
        for (int k = 0; k < iterations; k++)
        {
            var c0 = Normalize(ref a00, ref a10, ref a20, ref a30);
            var c1 = Normalize(ref a01, ref a11, ref a21, ref a31);
            var c2 = Normalize(ref a02, ref a12, ref a22, ref a32);
            var c3 = Normalize(ref a03, ref a13, ref a23, ref a33);
            if (record) Record(ref Unsafe.Add(ref hist, Slot * h), c0, c1, c2, c3, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
            h++;
            var r0 = Normalize(ref a00, ref a01, ref a02, ref a03);
            var r1 = Normalize(ref a10, ref a11, ref a12, ref a13);
            var r2 = Normalize(ref a20, ref a21, ref a22, ref a23);
            var r3 = Normalize(ref a30, ref a31, ref a32, ref a33);
            if (record) Record(ref Unsafe.Add(ref hist, Slot * h), r0, r1, r2, r3, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
            h++;
        }
        Store(ref mm, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
    }

    /// <summary>The backward of <see cref="ExpFirst"/> in place on <paramref name="g"/> (16 vectors), from its history and basis.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpFirstBackward(Span<Vector<float>> g, int steps, Span<Vector<float>> history, Span<Vector<float>> basis)
    {
        ref var gg = ref MemoryMarshal.GetReference(g[..16]);
        ref var hist = ref MemoryMarshal.GetReference(history[..(Slot * steps)]);
        Vector<float> g00 = At(ref gg, 0), g01 = At(ref gg, 1), g02 = At(ref gg, 2), g03 = At(ref gg, 3);
        Vector<float> g10 = At(ref gg, 4), g11 = At(ref gg, 5), g12 = At(ref gg, 6), g13 = At(ref gg, 7);
        Vector<float> g20 = At(ref gg, 8), g21 = At(ref gg, 9), g22 = At(ref gg, 10), g23 = At(ref gg, 11);
        Vector<float> g30 = At(ref gg, 12), g31 = At(ref gg, 13), g32 = At(ref gg, 14), g33 = At(ref gg, 15);
        for (int h = steps - 1; h >= 0; h--)
        {
            ref var s = ref Unsafe.Add(ref hist, Slot * h);
            if (h % 2 == 0)
            {
                // Column normalisation j: entries (i, j) at 4 i + j, its inverse at 16 + j.
                Back(ref g00, ref g10, ref g20, ref g30, ref s, 0, 4, 16);
                Back(ref g01, ref g11, ref g21, ref g31, ref s, 1, 4, 17);
                Back(ref g02, ref g12, ref g22, ref g32, ref s, 2, 4, 18);
                Back(ref g03, ref g13, ref g23, ref g33, ref s, 3, 4, 19);
            }
            else
            {
                Back(ref g00, ref g01, ref g02, ref g03, ref s, 0, 1, 16);
                Back(ref g10, ref g11, ref g12, ref g13, ref s, 4, 1, 17);
                Back(ref g20, ref g21, ref g22, ref g23, ref s, 8, 1, 18);
                Back(ref g30, ref g31, ref g32, ref g33, ref s, 12, 1, 19);
            }
        }
        // m0 = exp(x - max), max held constant.
        ref var b = ref MemoryMarshal.GetReference(basis[..16]);
        Store(ref gg,
            g00 * At(ref b, 0), g01 * At(ref b, 1), g02 * At(ref b, 2), g03 * At(ref b, 3),
            g10 * At(ref b, 4), g11 * At(ref b, 5), g12 * At(ref b, 6), g13 * At(ref b, 7),
            g20 * At(ref b, 8), g21 * At(ref b, 9), g22 * At(ref b, 10), g23 * At(ref b, 11),
            g30 * At(ref b, 12), g31 * At(ref b, 13), g32 * At(ref b, 14), g33 * At(ref b, 15));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> At(ref Vector<float> first, int index) => Unsafe.Add(ref first, index);

    /// <summary>Divides four entries by their sum (as the general code: ((a + b) + c) + d, plus a zero epsilon); returns 1 / sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Normalize(ref Vector<float> a, ref Vector<float> b, ref Vector<float> c, ref Vector<float> d)
    {
        var inverse = Vector<float>.One / (a + b + c + d + Vector<float>.Zero);
        a *= inverse;
        b *= inverse;
        c *= inverse;
        d *= inverse;
        return inverse;
    }

    /// <summary>Backward of one normalisation: g = (g - g . out) / sum, with out at s[first + k stride] and 1 / sum at s[inverse].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Back(ref Vector<float> a, ref Vector<float> b, ref Vector<float> c, ref Vector<float> d, ref Vector<float> s,
        int first, int stride, int inverse)
    {
        var dot = Vector<float>.Zero + a * At(ref s, first) + b * At(ref s, first + stride) + c * At(ref s, first + 2 * stride)
            + d * At(ref s, first + 3 * stride);
        var inv = At(ref s, inverse);
        a = (a - dot) * inv;
        b = (b - dot) * inv;
        c = (c - dot) * inv;
        d = (d - dot) * inv;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Record(ref Vector<float> slot, Vector<float> i0, Vector<float> i1, Vector<float> i2, Vector<float> i3,
        Vector<float> a00, Vector<float> a01, Vector<float> a02, Vector<float> a03, Vector<float> a10, Vector<float> a11, Vector<float> a12, Vector<float> a13,
        Vector<float> a20, Vector<float> a21, Vector<float> a22, Vector<float> a23, Vector<float> a30, Vector<float> a31, Vector<float> a32, Vector<float> a33)
    {
        Store(ref slot, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
        (Unsafe.Add(ref slot, 16), Unsafe.Add(ref slot, 17), Unsafe.Add(ref slot, 18), Unsafe.Add(ref slot, 19)) = (i0, i1, i2, i3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref Vector<float> to,
        Vector<float> a00, Vector<float> a01, Vector<float> a02, Vector<float> a03, Vector<float> a10, Vector<float> a11, Vector<float> a12, Vector<float> a13,
        Vector<float> a20, Vector<float> a21, Vector<float> a22, Vector<float> a23, Vector<float> a30, Vector<float> a31, Vector<float> a32, Vector<float> a33)
    {
        (Unsafe.Add(ref to, 0), Unsafe.Add(ref to, 1), Unsafe.Add(ref to, 2), Unsafe.Add(ref to, 3)) = (a00, a01, a02, a03);
        (Unsafe.Add(ref to, 4), Unsafe.Add(ref to, 5), Unsafe.Add(ref to, 6), Unsafe.Add(ref to, 7)) = (a10, a11, a12, a13);
        (Unsafe.Add(ref to, 8), Unsafe.Add(ref to, 9), Unsafe.Add(ref to, 10), Unsafe.Add(ref to, 11)) = (a20, a21, a22, a23);
        (Unsafe.Add(ref to, 12), Unsafe.Add(ref to, 13), Unsafe.Add(ref to, 14), Unsafe.Add(ref to, 15)) = (a30, a31, a32, a33);
    }
}
