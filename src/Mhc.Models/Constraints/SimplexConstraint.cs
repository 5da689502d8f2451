using static TorchSharp.torch;

namespace Mhc.Models.Constraints;

/// <summary>Softmax over the last axis: non-negative weights that sum to one.</summary>
public sealed class SimplexConstraint : IMixingConstraint
{
    /// <inheritdoc />
    public string Name => "simplex";

    /// <inheritdoc />
    public Tensor Project(Tensor logits) => logits.to_type(ScalarType.Float32).softmax(-1);
}
