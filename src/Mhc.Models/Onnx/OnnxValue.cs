namespace Mhc.Models.Onnx;

/// <summary>
/// A tensor of an ONNX graph under construction: its name and its shape, with -1 for the dynamic batch axis
/// (axis 0 of every activation; every other axis is known when the graph is written, which lets reshapes name
/// their targets). Weights and static mixing coefficients have no batch axis and no -1.
/// </summary>
/// <param name="Name">The graph value's name.</param>
/// <param name="Shape">The shape; -1 marks the batch axis.</param>
public sealed record OnnxValue(string Name, long[] Shape)
{
    /// <summary>The shape without the batch axis.</summary>
    public long[] SampleShape => Shape[1..];

    /// <summary>Elements per sample (the product of <see cref="SampleShape"/>).</summary>
    public long SampleSize => SampleShape.Aggregate(1L, (a, d) => a * d);

    /// <summary>The shape as text, for errors ("[B, 4, 16, 8, 8]").</summary>
    public override string ToString() => $"{Name} [B, {string.Join(", ", SampleShape)}]";
}
