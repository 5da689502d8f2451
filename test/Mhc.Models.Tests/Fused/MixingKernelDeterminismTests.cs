using Mhc.Models.Constraints;
using Mhc.Models.Fused;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Fused;

/// <summary>
/// The fused nodes' backward splits rows over threads and sums the gates' and biases' gradients per group of rows in
/// a fixed order, so the thread count must not change a single bit of the gradients it writes.
/// </summary>
public class MixingKernelDeterminismTests
{
    [Theory]
    [InlineData(true, 5, 203)]
    [InlineData(false, 5, 203)]
    [InlineData(false, 37, 203)]
    [InlineData(false, 13, 700)]      // per token, 700 rows are three blocks of Phi's gradient, so three threads share them
    public void Backward_IsTheSameBitForBit_OnOneThreadOrSeveral(bool pooled, int channels, int rows)
    {
        T.Init(71);
        using var scope = NewDisposeScope();
        const int n = 4;
        int m = pooled ? channels * 7 : channels;
        var spec = new MixingSpec(n, true, 1.0, new SinkhornProjection(20, SinkhornVariant.ExpFirst), 1e-6,
            pooled ? MixingState.PooledChannelsFirst : MixingState.PerToken, channels);
        var x = randn(rows, n, m).requires_grad_(true);
        var phi = (randn(spec.Q, spec.StateLength) * 0.3f).requires_grad_(true);
        var gates = tensor(new[] { 0.7f, -0.4f, 0.9f }).requires_grad_(true);
        var biasPre = (randn(n) * 0.5f).requires_grad_(true);
        var biasPost = (randn(n) * 0.5f).requires_grad_(true);
        var biasRes = (randn(n, n) * 0.5f).requires_grad_(true);
        var link = new MixingLink();
        var (u, coefficients, _) = MixInFunction.Apply(spec, link, x, phi, gates, biasPre, biasPost, biasRes);
        var y = (u * 1.5f).contiguous();
        var output = MixOutFunction.Apply(link, deferred: true, x, coefficients, y);
        var dOut = randn(rows, n, m);
        Tensor[] leaves = [x, gates, biasPre, biasPost, biasRes];

        // Pooled, Phi's gradient is libtorch's GEMM on the pooled states, whose bits may depend on its own thread
        // split; per token, the kernel sums it in fixed blocks of rows.
        var compared = pooled ? leaves : [.. leaves, phi];

        float[][] Backward(int threads)
        {
            set_num_threads(threads);
            foreach (var leaf in leaves.Append(phi)) leaf.grad?.zero_();
            autograd.backward([output], [dOut], retain_graph: true);
            return compared.Select(l => T.Values(l.grad!)).ToArray();
        }

        int previous = get_num_threads();
        try
        {
            var one = Backward(1);
            var several = Backward(3);
            // Every gradient the kernels write, dX included (per token, Phi^T (dm r) is made row by row in the kernel).
            for (int i = 0; i < compared.Length; i++) Assert.Equal(one[i], several[i]);
            Assert.Contains(one[0], v => v != 0f);
        }
        finally
        {
            set_num_threads(previous);
        }
    }

    [Fact]
    public void TransitionWriteIn_Backward_IsTheSameBitForBit_OnOneThreadOrSeveral()
    {
        // The projection's gradient is summed over rows in row order; every other gradient is per row.
        T.Init(72);
        using var scope = NewDisposeScope();
        const int n = 4, rows = 37, k = 8, m = 16, positions = 50;
        var s = randn(rows, n, k * positions).requires_grad_(true);
        var coefficients = randn(rows, n * n + 2 * n).requires_grad_(true);
        var y = randn(rows, m * positions).requires_grad_(true);
        var weight = randn(m, k).requires_grad_(true);
        var output = ProjectedMixOutFunction.Apply(s, coefficients, y, weight, positions);
        var dOut = randn(rows, n, m * positions);
        Tensor[] leaves = [s, coefficients, y, weight];

        float[][] Backward(int threads)
        {
            set_num_threads(threads);
            foreach (var leaf in leaves) leaf.grad?.zero_();
            autograd.backward([output], [dOut], retain_graph: true);
            return leaves.Select(l => T.Values(l.grad!)).ToArray();
        }

        int previous = get_num_threads();
        try
        {
            var one = Backward(1);
            var several = Backward(3);
            for (int i = 0; i < leaves.Length; i++) Assert.Equal(one[i], several[i]);
            Assert.Contains(one[3], v => v != 0f);
        }
        finally
        {
            set_num_threads(previous);
        }
    }
}
