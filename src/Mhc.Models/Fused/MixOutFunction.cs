using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Mhc.Models.Fused;

/// <summary>
/// The write-in half of a fused hyper-connection as one autograd node: X' = H_res X + H_post y (see
/// <see cref="MixOutKernel"/>). When <c>deferred</c>, X is the read-out node's input and this node leaves the
/// gradients of X and H_res to that node (through the <see cref="MixingLink"/>), which writes them in its own pass.
/// </summary>
internal sealed class MixOutFunction : SingleTensorFunction<MixOutFunction>
{
    /// <inheritdoc />
    public override string Name => "MhcMixOut";

    /// <summary>
    /// X' (rows, n, M) from X (rows, n, M), the coefficients (rows, Q) and y (rows, M). X may be one tensor (rows, 1, M)
    /// standing for n identical streams (<see cref="SharedStreams"/>); its gradient is then left to the read-out node.
    /// </summary>
    public static Tensor Apply(MixingLink link, bool deferred, Tensor x, Tensor coefficients, Tensor y)
    {
        if (x.shape[1] != Streams(coefficients) && !deferred)
            throw new ArgumentException("Streams shared by one tensor leave their gradient to the read-out node (deferred).", nameof(deferred));
        if (is_grad_enabled() && (x.requires_grad || coefficients.requires_grad || y.requires_grad))
            return apply(x, coefficients, y, link, deferred);
        return Run(x, coefficients, y);
    }

    // Q = n^2 + 2 n coefficients per row.
    private static int Streams(Tensor coefficients) => (int)Math.Round(Math.Sqrt(1 + coefficients.shape[1]) - 1);

    /// <inheritdoc />
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (x, coefficients, y) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
        ctx.save_for_backward([x, coefficients, y]);
        ctx.set_materialize_grads(false);
        ctx.save_data("link", vars[3]);
        ctx.save_data("deferred", vars[4]);
        return Run(x, coefficients, y);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        if (grad_output.IsInvalid) return [null!, null!, null!, null!, null!];
        var saved = ctx.get_saved_variables();
        var (x, coefficients, y) = (saved[0], saved[1], saved[2]);
        bool deferred = (bool)ctx.get_data("deferred");
        var dOut = grad_output.contiguous();
        var dy = empty_like(y);
        var dCoefficients = empty_like(coefficients);
        var dx = deferred ? null : empty_like(x);
        int n = Streams(coefficients);
        if (x.shape[1] != n)
        {
            // Streams shared by one tensor: the read-out node gets dOut's share of x's gradient, not dOut.
            var partial = empty_like(x);
            unsafe
            {
                SharedStreams.OutputGradient(n, x.shape[0], (int)x.shape[2], TensorMemory.Pointer(x), TensorMemory.Pointer(coefficients),
                    TensorMemory.Pointer(y), TensorMemory.Pointer(dOut), TensorMemory.Pointer(dy), TensorMemory.Pointer(dCoefficients),
                    TensorMemory.Pointer(partial));
            }
            ((MixingLink)ctx.get_data("link")).Leave(partial);
            return [null!, dCoefficients, dy, null!, null!];
        }
        unsafe
        {
            MixOutKernel.Backward(n, x.shape[0], (int)x.shape[2], TensorMemory.Pointer(x), TensorMemory.Pointer(coefficients),
                TensorMemory.Pointer(y), TensorMemory.Pointer(dOut), TensorMemory.Pointer(dy), TensorMemory.Pointer(dCoefficients),
                dx is null ? null : TensorMemory.Pointer(dx));
        }
        if (deferred) ((MixingLink)ctx.get_data("link")).Leave(dOut);
        return [dx!, dCoefficients, dy, null!, null!];
    }

    private static Tensor Run(Tensor x, Tensor coefficients, Tensor y)
    {
        int n = Streams(coefficients);
        var output = empty(x.shape[0], n, x.shape[2], dtype: x.dtype);
        unsafe
        {
            MixOutKernel.Forward(n, x.shape[0], (int)x.shape[2], TensorMemory.Pointer(x), TensorMemory.Pointer(coefficients),
                TensorMemory.Pointer(y), TensorMemory.Pointer(output), shared: x.shape[1] != n);
        }
        return output;
    }
}
