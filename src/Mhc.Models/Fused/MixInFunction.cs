using Mhc.Models.Layers;
using System.Diagnostics;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Mhc.Models.Fused;

/// <summary>
/// The read-out half of a fused hyper-connection as one autograd node (see <see cref="MixInKernel"/>): inputs
/// X (rows, n, M), Phi, the gates and the three biases; outputs the branch input u (rows, M) and the coefficients
/// (rows, Q). Its backward writes the full gradient of X, including the part of the write-in node
/// (<see cref="MixOutFunction"/>) that the shared <see cref="MixingLink"/> carries. At a stage transition it also
/// outputs the streams' subsample for the shortcut projection (<see cref="StreamSubsample"/>), whose gradient it adds
/// to the streams' gradient in place. X may also be one tensor (rows, 1, M) standing for n identical streams, the
/// first block after the expansion (<see cref="SharedStreams"/>); its gradient then has that shape too.
/// </summary>
internal sealed class MixInFunction : MultiTensorFunction<MixInFunction>
{
    /// <inheritdoc />
    public override string Name => "MhcMixIn";

    /// <summary>
    /// u, the coefficients and, with <paramref name="subsample"/>, the streams' subsample (else null); recorded for
    /// autograd when a gradient is wanted.
    /// </summary>
    public static (Tensor U, Tensor Coefficients, Tensor? Subsample) Apply(MixingSpec spec, MixingLink link, Tensor x, Tensor phi, Tensor gates,
        Tensor biasPre, Tensor biasPost, Tensor biasRes, StreamSubsample? subsample = null)
    {
        bool record = is_grad_enabled() && (x.requires_grad || phi.requires_grad || gates.requires_grad
            || biasPre.requires_grad || biasPost.requires_grad || biasRes.requires_grad);
        if (!record)
        {
            var (u, coefficients, _, _, _) = Forward(spec, x, phi, gates, biasPre, biasPost, biasRes);
            return (u, coefficients, subsample?.Take(x));
        }
        var outputs = subsample is null
            ? apply(x, phi, gates, biasPre, biasPost, biasRes, spec, link)
            : apply(x, phi, gates, biasPre, biasPost, biasRes, spec, link, subsample);
        return (outputs[0], outputs[1], subsample is null ? null : outputs[2]);
    }

    /// <inheritdoc />
    public override List<Tensor> forward(AutogradContext ctx, params object[] vars)
    {
        var (x, phi, gates, biasPre, biasPost, biasRes) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4], (Tensor)vars[5]);
        var spec = (MixingSpec)vars[6];
        var (u, coefficients, projected, r, states) = Forward(spec, x, phi, gates, biasPre, biasPost, biasRes);
        // Pooled states (tiny: rows x n C) are kept, so that the backward need not pool X again; per token, r stands in.
        ctx.save_for_backward([x, phi, gates, biasPre, biasPost, biasRes, coefficients, projected, r, states ?? r]);
        // Unused outputs get no gradient (not a tensor of zeros made from a cache the caller's dispose scope may free).
        ctx.set_materialize_grads(false);
        ctx.save_data("spec", spec);
        ctx.save_data("link", vars[7]);
        var subsample = vars.Length > 8 ? vars[8] as StreamSubsample : null;
        ctx.save_data("subsample", subsample!);
        return subsample is null ? [u, coefficients] : [u, coefficients, subsample.Take(x)];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, List<Tensor> grad_outputs)
    {
        var saved = ctx.get_saved_variables();
        var (x, phi, gates, biasPre, biasPost, biasRes) = (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]);
        var (coefficients, projected, r) = (saved[6], saved[7], saved[8]);
        var spec = (MixingSpec)ctx.get_data("spec");
        bool pooled = spec.State != MixingState.PerToken;
        var states = pooled ? saved[9] : null;
        var link = (MixingLink)ctx.get_data("link");
        var du = grad_outputs[0].IsInvalid ? null : grad_outputs[0].contiguous();
        var dCoefficients = grad_outputs[1].IsInvalid ? null : grad_outputs[1].contiguous();
        var dOut = link.Take();
        long rows = x.shape[0];
        var dmr = empty(rows, spec.Q, dtype: ScalarType.Float32);
        var scale = empty(rows, dtype: ScalarType.Float32);
        var gateGradient = new float[3];
        var biasGradient = new float[spec.Q];
        using var summed = SummedPhi(spec, x, phi);
        var input = Inputs(spec, x, summed ?? phi, gates, biasPre, biasPost, biasRes);
        // The whole dX is written with the coefficients' gradient (one pass over X, dOut and du); per token, Phi's
        // gradient too, in shares per block of rows (see MixInKernel.TokenInput), when Phi fits the cache.
        bool fused = !pooled && MixInKernel.TokenInput.Fits(spec);
        var dx = pooled || fused ? empty_like(x) : null;
        // Per token on shared streams a share is one block of Phi's columns, which all n blocks take at the end.
        int shareColumns = summed is null ? spec.StateLength : spec.StateChannels;
        var phiShares = !fused ? null : zeros(MixInKernel.TokenInput.Blocks(rows), spec.Q, shareColumns, dtype: ScalarType.Float32);
        unsafe
        {
            var pooledInput = pooled
                ? new MixInKernel.PooledInput(TensorMemory.Pointer(coefficients), TensorMemory.Pointer(states!), TensorMemory.Pointer(dx!))
                : null;
            var tokenInput = !fused ? null
                : new MixInKernel.TokenInput(TensorMemory.Pointer(coefficients), TensorMemory.Pointer(dx!), TensorMemory.Pointer(phiShares!));
            MixInKernel.BackwardCoefficients(spec, input, TensorMemory.Pointer(projected), TensorMemory.Pointer(r),
                du is null ? null : TensorMemory.Pointer(du), dCoefficients is null ? null : TensorMemory.Pointer(dCoefficients),
                dOut is null ? null : TensorMemory.Pointer(dOut), TensorMemory.Pointer(dmr), TensorMemory.Pointer(scale),
                gateGradient, biasGradient, pooledInput, tokenInput);
        }
        long start = Stopwatch.GetTimestamp();
        Tensor dphi;
        if (!fused)
        {
            // dPhi = sum over rows of (dm r) v^T, by GEMM: on the small pooled states, or per token when Phi is large.
            dphi = matmul(dmr.t(), states ?? x.view(rows, spec.StateLength));
            if (!pooled)
            {
                // Phi^T (dm r) for every token at once, with X's shape; the gradient of X is written over it.
                dx = matmul(dmr, phi).view(x.shape);
                long inputStart = Stopwatch.GetTimestamp();
                unsafe
                {
                    MixInKernel.BackwardInput(spec, input, TensorMemory.Pointer(coefficients), du is null ? null : TensorMemory.Pointer(du),
                        dOut is null ? null : TensorMemory.Pointer(dOut), TensorMemory.Pointer(scale), TensorMemory.Pointer(dx), TensorMemory.Pointer(dx));
                }
                start += Stopwatch.GetTimestamp() - inputStart;                // the input pass belongs to the mixing section
            }
        }
        else
        {
            dphi = empty(spec.Q, shareColumns, dtype: ScalarType.Float32);
            unsafe
            {
                MixInKernel.TokenInput.SumPhiGradient(TensorMemory.Pointer(phiShares!), phiShares!.shape[0], spec.Q * shareColumns,
                    TensorMemory.Pointer(dphi));
            }
            phiShares!.Dispose();
            if (summed is not null)
            {
                // d(Phi_k) = dmr x^T for every block k.
                using var block = dphi;
                dphi = block.repeat(1, spec.N);
            }
        }
        MixingProfiler.Attribute(MixingProfiler.PhiNorm, Stopwatch.GetTimestamp() - start);
        dOut?.Dispose();
        if (grad_outputs.Count > 2 && !grad_outputs[2].IsInvalid)
            ((StreamSubsample)ctx.get_data("subsample")).AddGradient(dx!, grad_outputs[2]);
        int n = spec.N;
        var biases = tensor(biasGradient);
        return
        [
            dx!, dphi, tensor(gateGradient),
            biases.narrow(0, 0, n), biases.narrow(0, n, n), biases.narrow(0, 2 * n, n * n).view(n, n),
            null!, null!, null!,
        ];
    }

    /// <summary>u, the coefficients, Phi v, r and the pooled states (null per token; the last three kept for the backward).</summary>
    private static (Tensor U, Tensor Coefficients, Tensor Projected, Tensor R, Tensor? States) Forward(MixingSpec spec, Tensor x, Tensor phi, Tensor gates,
        Tensor biasPre, Tensor biasPost, Tensor biasRes)
    {
        long rows = x.shape[0];
        var projected = empty(rows, spec.Q, dtype: ScalarType.Float32);
        var r = empty(rows, dtype: ScalarType.Float32);
        var states = spec.State == MixingState.PerToken ? null : empty(rows, spec.StateLength, dtype: ScalarType.Float32);
        var u = empty(rows, x.shape[2], dtype: ScalarType.Float32);
        var coefficients = empty(rows, spec.Q, dtype: ScalarType.Float32);
        using var summed = SummedPhi(spec, x, phi);
        unsafe
        {
            MixInKernel.Forward(spec, Inputs(spec, x, summed ?? phi, gates, biasPre, biasPost, biasRes), TensorMemory.Pointer(projected),
                TensorMemory.Pointer(r), TensorMemory.Pointer(u), TensorMemory.Pointer(coefficients),
                states is null ? null : TensorMemory.Pointer(states));
        }
        return (u, coefficients, projected, r, states);
    }

    private static unsafe MixInKernel.Inputs Inputs(MixingSpec spec, Tensor x, Tensor phi, Tensor gates, Tensor biasPre, Tensor biasPost, Tensor biasRes)
    {
        var biases = new float[spec.Q];
        int n = spec.N;
        Read(biasPre, biases.AsSpan(0, n));
        Read(biasPost, biases.AsSpan(n, n));
        Read(biasRes, biases.AsSpan(2 * n, n * n));
        var g = new float[3];
        Read(gates, g);
        // One tensor standing for n identical streams (rows, 1, M): see SharedStreams. Per token, phi is then Phi's n
        // blocks summed (SummedPhi), Q x M.
        bool shared = SharesStreams(spec, x);
        return new MixInKernel.Inputs(TensorMemory.Pointer(x), x.shape[0], (int)x.shape[2], TensorMemory.Pointer(phi), g, biases, shared,
            shared && spec.State == MixingState.PerToken ? (int)x.shape[2] : 0);
    }

    /// <summary>Whether x (rows, 1, M) stands for n identical streams; per token only where the fused backward runs.</summary>
    private static bool SharesStreams(MixingSpec spec, Tensor x)
    {
        if (x.shape[1] == spec.N) return false;
        if (x.shape[1] != 1 || (spec.State == MixingState.PerToken && !MixInKernel.TokenInput.Fits(spec)))
            throw new ArgumentException(
                $"The read-out expects {spec.N} streams per row, or one shared by all; got [{string.Join(", ", x.shape)}].", nameof(x));
        return true;
    }

    /// <summary>
    /// For per-token states of shared streams, Phi's n blocks of columns summed (Q x M): Phi (x, ..., x) = (sum_k Phi_k) x,
    /// a quarter of the products at n = 4. Null otherwise.
    /// </summary>
    private static Tensor? SummedPhi(MixingSpec spec, Tensor x, Tensor phi) =>
        spec.State == MixingState.PerToken && SharesStreams(spec, x)
            ? phi.view(spec.Q, spec.N, spec.StateChannels).sum(1L).contiguous()
            : null;

    private static unsafe void Read(Tensor t, Span<float> into) => new ReadOnlySpan<float>(TensorMemory.Pointer(t), into.Length).CopyTo(into);
}
