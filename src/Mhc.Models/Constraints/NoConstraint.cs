using static TorchSharp.torch;

namespace Mhc.Models.Constraints;

/// <summary>Leaves the logits as they are (cast to float32): the unconstrained baseline.</summary>
public sealed class NoConstraint : IMixingConstraint
{
    /// <inheritdoc />
    public string Name => "none";

    /// <inheritdoc />
    public Tensor Project(Tensor logits) => logits.to_type(ScalarType.Float32);
}
