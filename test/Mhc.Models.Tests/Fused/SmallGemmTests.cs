using Mhc.Models.Fused;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Fused;

/// <summary>The blocked small products against libtorch's, on shapes that exercise every tail (rows, columns, depth).</summary>
public class SmallGemmTests
{
    [Theory]
    [InlineData(32, 16, 196)]
    [InlineData(64, 32, 49)]
    [InlineData(7, 5, 3)]
    [InlineData(6, 9, 8)]
    [InlineData(13, 4, 50)]
    public unsafe void MultiplyAdd_IsInitTimesScalePlusTheProduct(int m, int k, int n)
    {
        T.Init(93);
        using var scope = NewDisposeScope();
        var a = randn(m, k);
        var b = randn(k, n);
        var init = randn(m, n);
        var c = empty(m, n);
        SmallGemm.MultiplyAdd(m, k, n, TensorMemory.Pointer(a), TensorMemory.Pointer(b), TensorMemory.Pointer(c), TensorMemory.Pointer(init), 0.7f);
        Assert.True(T.MaxAbsDiff(c, init * 0.7f + mm(a, b)) < 1e-4, $"differs by {T.MaxAbsDiff(c, init * 0.7f + mm(a, b))}");
        SmallGemm.MultiplyAdd(m, k, n, TensorMemory.Pointer(a), TensorMemory.Pointer(b), TensorMemory.Pointer(c), null, 0f);
        Assert.True(T.MaxAbsDiff(c, mm(a, b)) < 1e-4);
    }

    [Theory]
    [InlineData(32, 16, 196, 4)]
    [InlineData(64, 32, 49, 4)]
    [InlineData(7, 5, 3, 2)]
    [InlineData(6, 9, 13, 3)]
    [InlineData(8, 8, 8, 1)]
    public unsafe void AddProductTransposed_AddsTheSumOfDTimesZTransposed(int m, int k, int p, int pairs)
    {
        T.Init(94);
        using var scope = NewDisposeScope();
        var d = randn(pairs, m, p);
        var z = randn(pairs, k, p);
        var acc = randn(m, k);
        var expected = acc + bmm(d, z.transpose(1, 2)).sum(0L);
        SmallGemm.AddProductTransposed(m, k, p, pairs, TensorMemory.Pointer(d), (long)m * p, TensorMemory.Pointer(z), (long)k * p, TensorMemory.Pointer(acc));
        Assert.True(T.MaxAbsDiff(acc, expected) < 1e-3, $"differs by {T.MaxAbsDiff(acc, expected)}");
    }
}
