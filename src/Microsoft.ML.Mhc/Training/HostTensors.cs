using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// CPU tensors filled in place from spans. TorchSharp's <c>tensor(float[], shape)</c> clones the array and pins the clone
/// until libtorch frees the tensor: for a batch of images that is two large-object-heap arrays per step, which only a
/// full collection reclaims. These write straight into libtorch's memory instead.
/// </summary>
internal static class HostTensors
{
    /// <summary>A new float32 CPU tensor of <paramref name="shape"/> holding a copy of <paramref name="values"/>.</summary>
    public static Tensor Copy(ReadOnlySpan<float> values, params long[] shape)
    {
        var t = empty(shape, ScalarType.Float32);
        values.CopyTo(Floats(t));
        return t;
    }

    /// <summary>The memory of a contiguous float32 CPU tensor.</summary>
    public static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>The memory of a contiguous int64 CPU tensor.</summary>
    public static Span<long> Longs(Tensor t) => MemoryMarshal.Cast<byte, long>(t.bytes);
}
