using static TorchSharp.torch;

namespace Mhc.Models.Initialization;

/// <summary>
/// Fills a tensor with draws from a normal distribution truncated to [mean + lower std, mean + upper std],
/// by the inverse-CDF method: uniform draws between the two CDF values, mapped back through the normal
/// quantile (sqrt(2) erfinv(2u - 1)). Uses libtorch's global generator, so seeded runs repeat.
/// </summary>
/// <remarks>
/// Why not <c>torch.nn.init.trunc_normal_</c>: in TorchSharp 0.107 its native side multiplies the erfinv draws
/// by the mean and adds the standard deviation, so with mean 0 every entry becomes exactly <c>std</c> (a constant
/// tensor, std 0; checked by a test here). The bounds are in standard deviations (as in TensorFlow and JAX);
/// PyTorch's own <c>trunc_normal_(std = 0.02)</c> takes absolute bounds of +-2, which at that std cut nothing.
/// </remarks>
internal static class TruncatedNormal
{
    /// <summary>Fills <paramref name="tensor"/> in place (without recording gradients) and returns it.</summary>
    /// <param name="tensor">A floating-point tensor.</param>
    /// <param name="std">Standard deviation of the untruncated normal; positive.</param>
    /// <param name="mean">Its mean. Default 0.</param>
    /// <param name="lower">Lower cut-off in standard deviations from the mean. Default -2.</param>
    /// <param name="upper">Upper cut-off in standard deviations from the mean; above <paramref name="lower"/>. Default 2.</param>
    public static Tensor Fill(Tensor tensor, double std, double mean = 0, double lower = -2, double upper = 2)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!(std > 0) || !double.IsFinite(std)) throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be positive.");
        if (!(lower < upper)) throw new ArgumentException($"The lower cut-off ({lower}) must be below the upper one ({upper}).", nameof(lower));
        using var noGrad = no_grad();
        // 2 Phi(z) - 1 = erf(z / sqrt 2): the range of the uniform draw whose erfinv lands in [lower, upper].
        double from = Erf(lower / Math.Sqrt(2)), to = Erf(upper / Math.Sqrt(2));
        tensor.uniform_(from, to).erfinv_().mul_(std * Math.Sqrt(2)).add_(mean);
        // erfinv of a value rounded to +-1 is infinite; the clamp keeps such rare draws at the cut-off.
        tensor.clamp_(mean + lower * std, mean + upper * std);
        return tensor;
    }

    private static double Erf(double x)
    {
        using var t = tensor(x, ScalarType.Float64);
        using var e = t.erf();
        return e.item<double>();
    }
}
