using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mhc.Models.Fused;

/// <summary>
/// The write-in of a stage transition, X'[i] = H_post[i] y + W (sum_j H_res[i, j] S[j]) (mHC eq. 3 with the linear
/// shortcut W applied to every stream: W commutes with the mixing), per sample, with S the streams' stride-s subsample
/// (K channels x P positions each), W the 1x1 projection (M x K) and y the branch output (M x P). Mixing first and
/// projecting the n mixed streams with <see cref="SmallGemm"/> while they are in cache leaves out the n projected
/// streams that a convolution followed by the write-in would write and read back, and the convolution's conversions
/// to and from its blocked layout.
/// </summary>
internal static unsafe class ProjectedMixOutKernel
{
    [ThreadStatic] private static float[]? scratch;

    /// <summary>
    /// Whether this node beats a convolution followed by the write-in for subsamples of <paramref name="positions"/>
    /// positions per channel. Its products run along the positions, so short rows leave the vectors part empty:
    /// measured on the Hyper-ResNet's transitions (mixing-blocks suite), the node saved 1.0-1.3 ms of a 17-18 ms block
    /// at 14 x 14 positions and lost 1.1 ms of a 12 ms one at 7 x 7.
    /// </summary>
    public static bool Pays(long positions) => positions >= 128;

    /// <summary>The shapes of one call.</summary>
    /// <param name="Streams">n.</param>
    /// <param name="Rows">Samples.</param>
    /// <param name="InChannels">K.</param>
    /// <param name="OutChannels">M.</param>
    /// <param name="Positions">P, the subsample's positions per channel.</param>
    public readonly record struct Shape(int Streams, long Rows, int InChannels, int OutChannels, int Positions)
    {
        /// <summary>Floats of one stream of S.</summary>
        public int In => InChannels * Positions;

        /// <summary>Floats of one stream of the output.</summary>
        public int Out => OutChannels * Positions;

        /// <summary>Coefficients per row.</summary>
        public int Q => Streams * Streams + 2 * Streams;
    }

    /// <summary>output (rows x n x M P) from S (rows x n x K P), the coefficients (rows x Q), y (rows x M P) and W (M x K).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Shape shape, float* s, float* coefficients, float* y, float* w, float* output)
    {
        nint sa = (nint)s, ca = (nint)coefficients, ya = (nint)y, wa = (nint)w, oa = (nint)output;
        KernelParallel.For(shape.Rows, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            int n = shape.Streams;
            fixed (float* z = Scratch(n * shape.In))
            {
                for (long t = start; t < end; t++)
                {
                    float* c = (float*)ca + t * shape.Q;
                    Mix(n, shape.In, c + 2 * n, (float*)sa + t * n * shape.In, z, transposed: false);
                    for (int i = 0; i < n; i++)
                        SmallGemm.MultiplyAdd(shape.OutChannels, shape.InChannels, shape.Positions, (float*)wa, z + (long)i * shape.In,
                            (float*)oa + (t * n + i) * shape.Out, (float*)ya + t * shape.Out, c[n + i]);
                }
            }
        });
    }

    /// <summary>
    /// The gradients from dOut: dS, dy, the coefficients' (post and res; pre is 0) and W's share of every row
    /// (<paramref name="weightRows"/>, rows x M x K, summed by the caller in row order). <paramref name="wt"/> is W^T.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Shape shape, float* s, float* coefficients, float* y, float* wt, float* dOut,
        float* dS, float* dCoefficients, float* dy, float* weightRows)
    {
        nint sa = (nint)s, ca = (nint)coefficients, ya = (nint)y, wta = (nint)wt, ga = (nint)dOut;
        nint dsa = (nint)dS, dca = (nint)dCoefficients, dya = (nint)dy, wra = (nint)weightRows;
        KernelParallel.For(shape.Rows, 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            int n = shape.Streams, q = shape.Q, inLength = shape.In, outLength = shape.Out;
            fixed (float* buffer = Scratch(2 * n * inLength))
            {
                float* z = buffer, dz = buffer + (long)n * inLength;
                for (long t = start; t < end; t++)
                {
                    float* c = (float*)ca + t * q, dc = (float*)dca + t * q;
                    float* st = (float*)sa + t * n * inLength, g = (float*)ga + t * n * outLength;
                    float* yt = (float*)ya + t * outLength, dyt = (float*)dya + t * outLength;
                    float* dw = (float*)wra + t * shape.OutChannels * shape.InChannels;
                    for (int k = 0; k < n; k++) dc[k] = 0f;
                    // dH_post[i] = dOut[i] . y; dy = sum_i H_post[i] dOut[i].
                    VectorOps.DotMany(yt, g, outLength, n, outLength, dc + n);
                    Combine(n, outLength, c + n, g, dyt);
                    // Z[i] = sum_j H_res[i, j] S[j] again; dW += dOut[i] Z[i]^T; dZ[i] = W^T dOut[i].
                    Mix(n, inLength, c + 2 * n, st, z, transposed: false);
                    new Span<float>(dw, shape.OutChannels * shape.InChannels).Clear();
                    SmallGemm.AddProductTransposed(shape.OutChannels, shape.InChannels, shape.Positions, n, g, outLength, z, inLength, dw);
                    for (int i = 0; i < n; i++)
                    {
                        SmallGemm.MultiplyAdd(shape.InChannels, shape.OutChannels, shape.Positions, (float*)wta, g + (long)i * outLength,
                            dz + (long)i * inLength, null, 0f);
                    }
                    // dH_res[i, j] = dZ[i] . S[j]; dS[j] = sum_i H_res[i, j] dZ[i].
                    if (n == 4) StreamMix4.Products(inLength, st, dz, dc + 2 * n);
                    else
                        for (int i = 0; i < n; i++) VectorOps.DotMany(dz + (long)i * inLength, st, inLength, n, inLength, dc + 2 * n + i * n);
                    Mix(n, inLength, c + 2 * n, dz, (float*)dsa + t * n * inLength, transposed: true);
                }
            }
        });
    }

    // into = sum_j w[j] from[j] over n streams of length floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Combine(int n, int length, float* w, float* from, float* into)
    {
        int c = n == 4 ? StreamMix4.ReadOut(length, from, w, into) : 0;
        if (n != 4) new Span<float>(into, length).Clear();
        for (int j = 0; j < n && n != 4; j++) VectorOps.AddScaled(into, from + (long)j * length, w[j], length);
        for (; c < length && n == 4; c++) into[c] = w[0] * from[c] + w[1] * from[length + c] + w[2] * from[2 * length + c] + w[3] * from[3 * length + c];
    }

    // into[i] = sum_j res[i, j] from[j] (or res[j, i] when transposed), n streams of length floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Mix(int n, int length, float* res, float* from, float* into, bool transposed)
    {
        if (n == 4)
        {
            StreamMix4.Mix(length, from, res, transposed, into);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            float* target = into + (long)i * length;
            new Span<float>(target, length).Clear();
            for (int j = 0; j < n; j++)
                VectorOps.AddScaled(target, from + (long)j * length, transposed ? res[j * n + i] : res[i * n + j], length);
        }
    }

    private static float[] Scratch(int length)
    {
        var s = scratch;
        if (s is null || s.Length < length) scratch = s = new float[length];
        return s;
    }
}
