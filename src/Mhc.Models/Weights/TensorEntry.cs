using static TorchSharp.torch;

namespace Mhc.Models.Weights;

/// <summary>One tensor of a state_dict as a weights file or a network declares it: its name, element type and shape.</summary>
/// <param name="Name">The state_dict key, e.g. <c>stem.conv.weight</c> or <c>blocks.0.phi</c>.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The sizes of the dimensions.</param>
public sealed record TensorEntry(string Name, ScalarType DType, long[] Shape)
{
    /// <summary>The shape as PyTorch prints it, e.g. <c>[8, 1, 3, 3]</c>.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";

    /// <summary>Element type and shape, e.g. <c>Float32 [8, 1, 3, 3]</c>.</summary>
    public override string ToString() => $"{Name}: {DType} {ShapeText}";
}
