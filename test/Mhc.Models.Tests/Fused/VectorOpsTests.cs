using Mhc.Models.Fused;

namespace Mhc.Models.Tests.Fused;

/// <summary>The fused kernels' blocked products against their plain definitions.</summary>
public class VectorOpsTests
{
    private static float[] Random(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    [Theory]
    [InlineData(24, 512)]
    [InlineData(5, 37)]        // whole blocks, then single columns
    public unsafe void AddOuter_AddsBothOuterProducts(int rows, int length)
    {
        var random = new Random(45);
        var start = Random(random, rows * length);
        var w = Enumerable.Range(0, 2).Select(_ => Random(random, rows)).ToArray();
        var x = Enumerable.Range(0, 2).Select(_ => Random(random, length)).ToArray();
        var acc = (float[])start.Clone();
        fixed (float* a = acc, w0 = w[0], w1 = w[1], x0 = x[0], x1 = x[1])
            VectorOps.AddOuter(a, rows, length, w0, x0, w1, x1);
        for (int k = 0; k < rows; k++)
            for (int e = 0; e < length; e++)
            {
                double expected = start[k * length + e] + (double)w[0][k] * x[0][e] + (double)w[1][k] * x[1][e];
                Assert.True(Math.Abs(acc[k * length + e] - expected) < 1e-5, $"acc[{k}, {e}] = {acc[k * length + e]}, expected {expected}");
            }
    }

    [Theory]
    [InlineData(24, 512)]
    [InlineData(5, 37)]
    public unsafe void TransposedProduct_IsTheTransposedMatrixTimesEachVector(int rows, int length)
    {
        var random = new Random(46);
        var matrix = Random(random, rows * length);
        var w0 = Random(random, rows);
        var w1 = Random(random, rows);
        var out0 = new float[length];
        var out1 = new float[length];
        fixed (float* m = matrix, a = w0, b = w1, o0 = out0, o1 = out1)
            VectorOps.TransposedProduct(m, rows, length, a, b, o0, o1);
        for (int e = 0; e < length; e++)
        {
            double e0 = 0, e1 = 0;
            for (int k = 0; k < rows; k++)
            {
                e0 += (double)matrix[k * length + e] * w0[k];
                e1 += (double)matrix[k * length + e] * w1[k];
            }
            Assert.True(Math.Abs(out0[e] - e0) < 1e-5 && Math.Abs(out1[e] - e1) < 1e-5, $"column {e}: {out0[e]}, {out1[e]} vs {e0}, {e1}");
        }
    }
}
