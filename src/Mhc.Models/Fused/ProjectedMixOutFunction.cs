using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Mhc.Models.Fused;

/// <summary>
/// The write-in of a stage transition as one autograd node (see <see cref="ProjectedMixOutKernel"/>): inputs the
/// streams' subsample S (rows, n, K P), the coefficients (rows, Q), the branch output y (rows, M P) and the shortcut's
/// 1x1 weight W (M, K); output X' (rows, n, M P). S comes from the read-out node (<see cref="StreamSubsample"/>),
/// which adds S's gradient to the streams' gradient.
/// </summary>
internal sealed class ProjectedMixOutFunction : SingleTensorFunction<ProjectedMixOutFunction>
{
    /// <inheritdoc />
    public override string Name => "MhcProjectedMixOut";

    /// <summary>X' (rows, n, M P).</summary>
    public static Tensor Apply(Tensor subsample, Tensor coefficients, Tensor y, Tensor weight, int positions)
    {
        if (is_grad_enabled() && (subsample.requires_grad || coefficients.requires_grad || y.requires_grad || weight.requires_grad))
            return apply(subsample, coefficients, y, weight, positions);
        return Run(subsample, coefficients, y, weight, positions);
    }

    /// <inheritdoc />
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (s, coefficients, y, weight) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3]);
        int positions = (int)vars[4];
        ctx.save_for_backward([s, coefficients, y, weight]);
        ctx.set_materialize_grads(false);
        ctx.save_data("positions", positions);
        return Run(s, coefficients, y, weight, positions);
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        if (grad_output.IsInvalid) return [null!, null!, null!, null!, null!];
        var saved = ctx.get_saved_variables();
        var (s, coefficients, y, weight) = (saved[0], saved[1], saved[2], saved[3]);
        var shape = ShapeOf(s, weight, (int)ctx.get_data("positions"));
        var dOut = grad_output.contiguous();
        var dS = empty_like(s);
        var dCoefficients = empty_like(coefficients);
        var dy = empty_like(y);
        using var weightT = weight.t().contiguous();
        using var weightRows = empty(shape.Rows, shape.OutChannels, shape.InChannels, dtype: ScalarType.Float32);
        var dWeight = zeros(shape.OutChannels, shape.InChannels, dtype: ScalarType.Float32);
        unsafe
        {
            ProjectedMixOutKernel.Backward(shape, TensorMemory.Pointer(s), TensorMemory.Pointer(coefficients), TensorMemory.Pointer(y),
                TensorMemory.Pointer(weightT), TensorMemory.Pointer(dOut), TensorMemory.Pointer(dS), TensorMemory.Pointer(dCoefficients),
                TensorMemory.Pointer(dy), TensorMemory.Pointer(weightRows));
            // W's gradient: the rows' shares in row order, whatever the thread count.
            int length = shape.OutChannels * shape.InChannels;
            float* rows = TensorMemory.Pointer(weightRows), sum = TensorMemory.Pointer(dWeight);
            for (long t = 0; t < shape.Rows; t++) VectorOps.AddScaled(sum, rows + t * length, 1f, length);
        }
        return [dS, dCoefficients, dy, dWeight, null!];
    }

    private static Tensor Run(Tensor s, Tensor coefficients, Tensor y, Tensor weight, int positions)
    {
        var shape = ShapeOf(s, weight, positions);
        var output = empty(shape.Rows, shape.Streams, shape.Out, dtype: ScalarType.Float32);
        unsafe
        {
            ProjectedMixOutKernel.Forward(shape, TensorMemory.Pointer(s), TensorMemory.Pointer(coefficients), TensorMemory.Pointer(y),
                TensorMemory.Pointer(weight), TensorMemory.Pointer(output));
        }
        return output;
    }

    private static ProjectedMixOutKernel.Shape ShapeOf(Tensor s, Tensor weight, int positions) =>
        new((int)s.shape[1], s.shape[0], (int)weight.shape[1], (int)weight.shape[0], positions);
}
