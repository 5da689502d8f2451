using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>
/// RMS normalisation without a graph, y = x / sqrt(mean(x^2) + eps) * g over the last axis, in one pass per row:
/// the inference path of <see cref="Transformers.RmsNorm"/>, whose tensor form costs eight ops per call (a large
/// share of a decoding step, which runs nine norms on one token).
/// </summary>
internal static unsafe class RmsNormKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>Normalises <paramref name="rows"/> rows of <paramref name="width"/> floats from <paramref name="x"/> into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* weight, float* y, long rows, int width, float epsilon)
    {
        nint xa = (nint)x, wa = (nint)weight, ya = (nint)y;
        KernelParallel.For(rows, Math.Max(1, 16384 / Math.Max(1, width)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            float* w = (float*)wa;
            for (long r = start; r < end; r++)
            {
                float* xr = (float*)xa + r * width, yr = (float*)ya + r * width;
                float scale = 1f / MathF.Sqrt(VectorOps.SumOfSquares(xr, width) / width + epsilon);
                int c = 0;
                for (; c + Lanes <= width; c += Lanes)
                    VectorOps.Store(yr + c, VectorOps.Load(xr + c) * scale * VectorOps.Load(w + c));
                for (; c < width; c++) yr[c] = xr[c] * scale * w[c];
            }
        });
    }
}
