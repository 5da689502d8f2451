using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mhc.Models.Native;

/// <summary>
/// Guards against a libtorch CPU defect measured on this project's build machines (libtorch 2.10 with its bundled
/// oneDNN, AVX-512 AMD EPYC): oneDNN's AVX-512 backward-data kernel returns wrong, often NaN, input gradients for
/// k&gt;1 convolutions whose output channel count is not a multiple of 16 (1, 3, 4, 8, 12, 20, 24 failed; 16, 32, 48,
/// 64 and all 1x1 convolutions passed). With one thread it fails on every call; with more it depends on how the work
/// is split. The forward pass and the weight gradient are right, so training silently goes wrong.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="EnsureCorrectGradients(torch.nn.Module)"/> runs every distinct 2-D convolution shape of a model once on
/// a small input in float32 and compares input and weight gradients with float64 (which never goes through oneDNN).
/// Only if one disagrees does it turn oneDNN convolutions off for the process
/// (<c>at::globalContext().setUserEnabledMkldnn(false)</c>, PyTorch's <c>torch.backends.mkldnn.enabled</c>;
/// TorchSharp does not expose it, so the exported C++ symbol is called). The ML.NET trainers call it before they
/// train a network on the CPU (building a network changes no process state), so our default widths (multiples of 16)
/// keep the fast kernels.
/// </para>
/// <para>
/// Measured costs of the fallbacks for a 3x3 convolution forward + backward, batch 32: oneDNN off (libtorch's
/// im2col + GEMM) is 2-5x slower than AVX-512 oneDNN on 16-64 channels; starting the process with
/// <c>ONEDNN_MAX_CPU_ISA=AVX2</c> is correct for all shapes and only 1.2-2.6x slower, but it must be set before the
/// process starts, so it is the user's choice; the log line says so. <see cref="MhcRuntimeOptions.OneDnnConvolutions"/>
/// (<c>MHC_MKLDNN=on</c> / <c>off</c>) skips the check or always disables oneDNN.
/// </para>
/// </remarks>
public static class ConvolutionBackendCheck
{
    private const double Tolerance = 1e-3;
    private static readonly object Gate = new();
    private static readonly HashSet<string> Verified = [];
    private static bool disabled;
    private static bool nnpackDone;

    /// <summary>True once oneDNN convolutions were turned off in this process.</summary>
    public static bool OneDnnDisabled => disabled;

    /// <summary>The last line the check logged, or null.</summary>
    public static string? LastOutcome { get; private set; }

    /// <summary>
    /// Checks the gradients of every 2-D convolution shape in <paramref name="model"/> (each distinct shape once
    /// per process) and turns oneDNN off if any is wrong.
    /// </summary>
    /// <returns>One line saying what was found and done.</returns>
    public static string EnsureCorrectGradients(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (Gate)
        {
            MhcEnvironment.EnsureTorch();
            DisableNnpackOnce();
            var mode = MhcEnvironment.RuntimeOptions.OneDnnConvolutions;
            if (disabled) return LastOutcome!;
            if (mode == OneDnnConvolutionMode.Trust) return Report("oneDNN convolutions left on unchecked (OneDnnConvolutions = Trust).", log: LastOutcome is null);
            if (mode == OneDnnConvolutionMode.Disable) return Report(Disable("OneDnnConvolutions = Disable"), log: true);

            int checkedNow = 0;
            foreach (var conv in model.modules().OfType<Convolution>())
            {
                // 'same'/'valid' padding modes carry no explicit padding; none of our models use them.
                if (conv.weight is null || conv.weight.dim() != 4 || conv.padding is null) continue;
                var key = Key(conv);
                if (Verified.Contains(key)) continue;
                double error = ProbeRelativeError(conv);
                checkedNow++;
                if (!(error <= Tolerance))
                    return Report(Disable($"oneDNN convolution gradients are wrong on this CPU for {key} (relative error {error:E1})") +
                        " Faster and also correct: start the process with ONEDNN_MAX_CPU_ISA=AVX2, or use channel counts that are multiples of 16.", log: true);
                Verified.Add(key);
            }
            return Report($"oneDNN convolution gradients verified for {Verified.Count} shapes ({checkedNow} new).", log: checkedNow > 0);
        }
    }

    // libtorch reaches NNPACK only for convolutions oneDNN does not take (here: the float64 reference of the probe,
    // or all of them once oneDNN is off). On these machines NNPACK cannot initialise and prints a warning on every
    // such call before falling back to the im2col path, so it is switched off once, which changes no result.
    private static void DisableNnpackOnce()
    {
        if (nnpackDone) return;
        nnpackDone = true;
        var lib = LoadTorchCpu();
        if (lib == IntPtr.Zero ||
            !NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var contextFn) ||
            !NativeLibrary.TryGetExport(lib, "_ZN2at7Context20setUserEnabledNNPACKEb", out var nnpackFn)) return;
        unsafe
        {
            var context = ((delegate* unmanaged<IntPtr>)contextFn)();
            ((delegate* unmanaged<IntPtr, byte, void>)nnpackFn)(context, 0);
        }
    }

    private static string Report(string line, bool log)
    {
        LastOutcome = line;
        if (log) MhcEnvironment.Log?.Invoke(line);
        return line;
    }

    private static string Key(Convolution c) =>
        $"{(c.transposed ? "conv_transpose2d" : "conv2d")}({c.in_channels}->{c.out_channels}, k={string.Join("x", c.kernel_size)}, " +
        $"s={string.Join("x", c.stride)}, p={string.Join("x", c.padding!)}, d={string.Join("x", c.dilation)}, g={c.groups})";

    private static double ProbeRelativeError(Convolution c)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        long side = Math.Max(8, 4 * c.stride.Max());
        double worst = 0;
        // With several threads the defect depends on how the work is split: repeat to make a miss unlikely.
        for (int rep = 0; rep < 4 && worst <= Tolerance; rep++)
        {
            // A private generator: the check must not move the global seed of a seeded run.
            using var gen = new torch.Generator((ulong)(1234 + rep));
            var w = randn(c.weight!.shape, generator: gen) * 0.3;
            var x = randn([2, c.in_channels, side, side], generator: gen);
            var (gx32, gw32) = Gradients(c, x, w);
            var (gx64, gw64) = Gradients(c, x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64));
            worst = Math.Max(worst, Math.Max(Relative(gx32, gx64), Relative(gw32, gw64)));
        }
        return worst;
    }

    private static double Relative(Tensor a, Tensor reference)
    {
        double diff = (a.to_type(ScalarType.Float64) - reference).abs().max().ToDouble();
        return double.IsFinite(diff) ? diff / Math.Max(reference.abs().max().ToDouble(), 1e-12) : double.PositiveInfinity;
    }

    private static (Tensor Input, Tensor Weight) Gradients(Convolution c, Tensor x, Tensor w)
    {
        var input = x.detach().requires_grad_();
        var weight = w.detach().requires_grad_();
        var y = c.transposed
            ? nn.functional.conv_transpose2d(input, weight, strides: c.stride, padding: c.padding!, output_padding: c.output_padding ?? [0, 0], dilation: c.dilation, groups: c.groups)
            : nn.functional.conv2d(input, weight, strides: c.stride, padding: c.padding!, dilation: c.dilation, groups: c.groups);
        y.square().sum().backward();
        return (input.grad!.detach().clone(), weight.grad!.detach().clone());
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
                if (still) return $"{why}; turning oneDNN off did not take effect: training may diverge.";
                disabled = true;
                return $"{why}: oneDNN convolutions turned off for this process (libtorch's own kernels are used; slower).";
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"{why}; turning oneDNN off failed ({e.Message}): training may diverge.";
        }
    }

    private static IntPtr LoadTorchCpu()
    {
        // The Itanium-mangled names above exist only in the Linux and macOS builds.
        if (OperatingSystem.IsWindows()) return IntPtr.Zero;
        string file = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        // By bare name first: the dynamic loader then returns the copy TorchSharp already loaded (matched by soname)
        // instead of possibly mapping a second copy from another path, whose switches would change nothing.
        if (NativeLibrary.TryLoad(file, out var handle)) return handle;
        if (NativeLibrary.TryLoad(file, typeof(torch).Assembly, null, out handle)) return handle;
        foreach (var dir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) })
        {
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir)) continue;
            var path = Directory.EnumerateFiles(dir, file, SearchOption.AllDirectories).FirstOrDefault();
            if (path is not null && NativeLibrary.TryLoad(path, out handle)) return handle;
        }
        return IntPtr.Zero;
    }
}
