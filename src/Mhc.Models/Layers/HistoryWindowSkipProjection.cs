using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Maps an earlier state onto the shape of a layer's output so a <see cref="HistoryWindowSkip"/> can add it:
/// a 1x1 convolution for maps (C, H, W), strided when the state is finer (the ResNet shortcut form) and
/// preceded by nearest upsampling when it is coarser; a bias-free linear map for vectors (C).
/// </summary>
/// <remarks>
/// The map is linear on purpose: the skip then stays a linear combination of states, so the constraint on
/// alpha keeps its meaning as a bound on the skip's gain. Only the ratio between source and target sizes is
/// fixed at construction; any input whose size keeps that ratio is accepted.
/// </remarks>
public sealed class HistoryWindowSkipProjection : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor>? map;

    /// <summary>Creates the projection from a state shaped <paramref name="sourceShape"/> to <paramref name="targetShape"/>
    /// (feature shapes, without the batch axis).</summary>
    /// <exception cref="ArgumentException">The shapes cannot be related by an integer resolution factor, or their ranks are unsupported.</exception>
    public HistoryWindowSkipProjection(long[] sourceShape, long[] targetShape, string name = "projection") : base(name)
    {
        ArgumentNullException.ThrowIfNull(sourceShape);
        ArgumentNullException.ThrowIfNull(targetShape);
        SourceShape = (long[])sourceShape.Clone();
        TargetShape = (long[])targetShape.Clone();
        if (sourceShape.Length != targetShape.Length)
            throw new ArgumentException($"Cannot project a state of shape {Show(sourceShape)} to {Show(targetShape)}: the ranks differ.", nameof(sourceShape));
        if (sourceShape.Length == 1)
        {
            map = Linear(sourceShape[0], targetShape[0], hasBias: false);
        }
        else if (sourceShape.Length == 3)
        {
            (Downsample, Upsample) = Factors(sourceShape, targetShape);
            map = Conv2d(sourceShape[0], targetShape[0], 1, stride: Downsample, bias: false);
        }
        else
        {
            throw new ArgumentException(
                $"Auto-projection supports vector (C) and map (C, H, W) features; a state of shape {Show(sourceShape)} must already match {Show(targetShape)}.",
                nameof(sourceShape));
        }
        RegisterComponents();
    }

    /// <summary>The feature shape the projection was built for (without batch).</summary>
    public IReadOnlyList<long> SourceShape { get; }

    /// <summary>The feature shape it produces for <see cref="SourceShape"/>.</summary>
    public IReadOnlyList<long> TargetShape { get; }

    /// <summary>Stride of the 1x1 convolution (1 unless the state is finer than the target).</summary>
    public long Downsample { get; } = 1;

    /// <summary>Nearest-upsampling factor applied first (1 unless the state is coarser than the target).</summary>
    public long Upsample { get; } = 1;

    private static (long Down, long Up) Factors(long[] s, long[] t)
    {
        string why = $"Cannot project a state of shape {Show(s)} to {Show(t)}: height and width must differ by the same integer factor.";
        if (s[1] >= t[1])
        {
            if (s[1] % t[1] != 0 || s[2] % t[2] != 0 || s[1] / t[1] != s[2] / t[2] || s[2] < t[2]) throw new ArgumentException(why);
            return (s[1] / t[1], 1);
        }
        if (t[1] % s[1] != 0 || t[2] % s[2] != 0 || t[1] / s[1] != t[2] / s[2] || s[2] > t[2]) throw new ArgumentException(why);
        return (1, t[1] / s[1]);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor state)
    {
        var x = state;
        if (Upsample > 1)
            x = functional.interpolate(x, scale_factor: [Upsample, Upsample], mode: InterpolationMode.Nearest);
        return map!.forward(x);
    }

    internal static string Show(IEnumerable<long> shape) => $"({string.Join(", ", shape)})";
}
