using Mhc.Models.Fused;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>
/// Root-mean-square layer normalisation over the last axis, y = x / sqrt(mean(x^2) + eps) * g
/// (Zhang and Sennrich 2019). TorchSharp 0.107 has no RMSNorm module, hence this one.
/// </summary>
public sealed class RmsNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double eps;

    /// <summary>Creates the normalisation for features of width <paramref name="dim"/>.</summary>
    /// <param name="dim">Size of the last axis.</param>
    /// <param name="eps">Added to the mean square for stability. Default 1e-6.</param>
    /// <param name="name">Module name.</param>
    public RmsNorm(int dim, double eps = 1e-6, string name = "rms_norm") : base(name)
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "At least one feature.");
        Dim = dim;
        this.eps = eps;
        weight = new Parameter(ones(dim, dtype: ScalarType.Float32));
        RegisterComponents();
    }

    /// <summary>Width of the normalised axis.</summary>
    public int Dim { get; }

    /// <summary>The epsilon added to the mean square.</summary>
    public double Epsilon => eps;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (x.shape[^1] != Dim)
            throw new ArgumentException($"{GetName()} expects a last axis of {Dim}; got shape [{string.Join(", ", x.shape)}].", nameof(x));
        if (!is_grad_enabled() && TensorMemory.IsKernelReady(x) && TensorMemory.IsKernelReady(weight))
        {
            // Inference (no graph wanted): one pass per row instead of eight tensor ops.
            var y = empty_like(x);
            unsafe
            {
                RmsNormKernel.Forward(TensorMemory.Pointer(x), TensorMemory.Pointer(weight), TensorMemory.Pointer(y), x.numel() / Dim, Dim, (float)eps);
            }
            return y;
        }
        // Statistics in float32 even for half-precision inputs: the mean square underflows otherwise.
        var x32 = x.to_type(ScalarType.Float32);
        var normed = x32 * (x32.square().mean(new long[] { -1 }, keepdim: true) + eps).rsqrt();
        return (normed * weight).to_type(x.dtype);
    }
}
