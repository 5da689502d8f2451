using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Mhc.Models.Fused;

/// <summary>Raw access to the float32 data of contiguous CPU tensors, for the fused kernels.</summary>
internal static class TensorMemory
{
    /// <summary>Whether the fused kernels can read and write <paramref name="t"/> in place: CPU, float32, contiguous, under 2 GB.</summary>
    public static bool IsKernelReady(Tensor t) =>
        t.device_type == TorchSharp.DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous() && t.numel() < int.MaxValue / sizeof(float);

    /// <summary>
    /// The address of <paramref name="t"/>'s first element. The caller keeps <paramref name="t"/> alive while using it
    /// (libtorch owns the memory; the .NET GC never moves it).
    /// </summary>
    public static unsafe float* Pointer(Tensor t)
    {
        if (!IsKernelReady(t))
            throw new ArgumentException($"Expected a contiguous float32 CPU tensor; got {t.dtype} on {t.device_type}, contiguous {t.is_contiguous()}.", nameof(t));
        if (t.numel() == 0) return null;
        var bytes = t.bytes;
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
    }
}
