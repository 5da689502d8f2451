using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Segmentation;

/// <summary>
/// Guards against a libtorch CPU defect seen on this project's build machines (libtorch 2.10, oneDNN 3.7.1,
/// AVX-512 AMD EPYC): oneDNN's convolution backward-data kernel returns wrong, sometimes NaN, input
/// gradients when a channel count is not a multiple of its 16-channel block (e.g. a 16 -> 11 class head, or
/// 12-channel maps). The forward pass and weight gradients are right, so training silently diverges.
/// </summary>
/// <remarks>
/// The check runs a tiny 3x3 convolution with 12 channels in float32 and compares its input gradient with
/// the float64 result (which never goes through oneDNN). Only if they disagree does it turn oneDNN
/// convolutions off for the process (<c>at::globalContext().setUserEnabledMkldnn(false)</c>, the switch
/// PyTorch exposes as <c>torch.backends.mkldnn.enabled</c>; TorchSharp does not expose it, so it is called
/// through the exported C++ symbol). libtorch then uses its own im2col + GEMM path, which was also faster
/// on these small convolutions here. Set <c>MHC_MKLDNN=on</c> to skip the check, <c>off</c> to always disable.
/// </remarks>
public static class ConvolutionBackendCheck
{
    private static readonly object Gate = new();
    private static string? outcome;

    /// <summary>Runs the check once per process (later calls return the first outcome).</summary>
    /// <returns>One line saying what was found and done.</returns>
    public static string EnsureCorrectGradients()
    {
        if (outcome is not null) return outcome;
        lock (Gate)
        {
            if (outcome is not null) return outcome;
            MhcEnvironment.EnsureTorch();
            var mode = (Environment.GetEnvironmentVariable("MHC_MKLDNN") ?? "auto").Trim().ToLowerInvariant();
            if (mode == "on") outcome = "oneDNN convolutions left on (MHC_MKLDNN=on).";
            else if (mode == "off") outcome = Disable("MHC_MKLDNN=off");
            else
            {
                double error = ProbeRelativeError();
                outcome = error <= 1e-3
                    ? $"oneDNN convolution gradients verified (relative error {error:E1})."
                    : Disable($"oneDNN convolution input gradients are wrong on this CPU (relative error {error:E1})");
            }
            MhcEnvironment.Log?.Invoke(outcome);
            return outcome;
        }
    }

    private static double ProbeRelativeError()
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        double worst = 0;
        // The defect is intermittent: a few repetitions make a miss unlikely (measured: about half fail).
        for (int rep = 0; rep < 4; rep++)
        {
            // A private generator: the check must not move the global seed of a seeded run.
            using var gen = new torch.Generator((ulong)(1234 + rep));
            var w = randn([12, 12, 3, 3], generator: gen) * 0.3;
            var x = randn([2, 12, 6, 6], generator: gen);
            var grad32 = InputGradient(x, w);
            var grad64 = InputGradient(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64));
            var diff = (grad32.to_type(ScalarType.Float64) - grad64).abs().max().ToDouble();
            var scale = grad64.abs().max().ToDouble();
            double rel = double.IsFinite(diff) ? diff / Math.Max(scale, 1e-12) : double.PositiveInfinity;
            worst = Math.Max(worst, rel);
            if (worst > 1e-3) break;
        }
        return worst;
    }

    private static Tensor InputGradient(Tensor x, Tensor w)
    {
        var input = x.detach().requires_grad_();
        var y = nn.functional.conv2d(input, w.detach(), padding: [1, 1]);
        y.square().sum().backward();
        return input.grad!.detach().clone();
    }

    private static string Disable(string why)
    {
        try
        {
            var lib = LoadTorchCpu();
            if (lib == IntPtr.Zero) return $"{why}; could not find libtorch_cpu to turn oneDNN off: training may diverge.";
            if (!NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var contextFn) ||
                !NativeLibrary.TryGetExport(lib, "_ZN2at7Context20setUserEnabledMkldnnEb", out var setFn) ||
                !NativeLibrary.TryGetExport(lib, "_ZNK2at7Context17userEnabledMkldnnEv", out var getFn))
                return $"{why}; this libtorch does not export the oneDNN switch: training may diverge.";
            unsafe
            {
                var context = ((delegate* unmanaged<IntPtr>)contextFn)();
                ((delegate* unmanaged<IntPtr, byte, void>)setFn)(context, 0);
                bool still = ((delegate* unmanaged<IntPtr, byte>)getFn)(context) != 0;
                return still
                    ? $"{why}; turning oneDNN off did not take effect: training may diverge."
                    : $"{why}: oneDNN convolutions turned off for this process (libtorch's own kernels are used).";
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"{why}; turning oneDNN off failed ({e.Message}): training may diverge.";
        }
    }

    private static IntPtr LoadTorchCpu()
    {
        // The Itanium-mangled names above only exist in the Linux and macOS builds.
        string file = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        if (OperatingSystem.IsWindows()) return IntPtr.Zero;
        if (NativeLibrary.TryLoad(file, typeof(torch).Assembly, null, out var handle)) return handle;
        foreach (var dir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) })
        {
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) continue;
            var path = Directory.EnumerateFiles(dir, file, SearchOption.AllDirectories).FirstOrDefault();
            if (path is not null && NativeLibrary.TryLoad(path, out handle)) return handle;
        }
        return NativeLibrary.TryLoad(file, out handle) ? handle : IntPtr.Zero;
    }
}
