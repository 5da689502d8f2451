using Benchmarks;
using Mhc.Models.Vision;
using Mhc.Models.Weights;
using Mhc.Samples.Tests.Data;
using static TorchSharp.torch;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The fixtures the PyTorch twin is checked on (<c>interop/pytorch/check.py</c>, which CI cannot run): every network's
/// weights and its input and logits are written, and the weights reload into the same network, which then reproduces
/// the saved logits. It seeds libtorch's generator, so it runs with the other sample runs, one at a time.
/// </summary>
[Collection(SampleRunCollection.Name)]
public class InteropExportSuiteTests
{
    [Fact]
    public void Run_WritesWeightsAndLogitsThatReloadExactly()
    {
        using var dir = new TempDirectory();
        string outDir = dir.File("fixtures");

        int exit = Benchmarks.Program.Main(["--suite", "interop-export", "--out", outDir]);

        Assert.Equal(0, exit);
        foreach (var (name, options) in InteropExportSuite.Networks)
        {
            using var scope = NewDisposeScope();
            var net = new HyperResNet(options);
            // The initial weights fit the same network (check.py compares the twin's initialisation with them).
            ModuleWeights.Load(net, Path.Combine(outDir, $"{name}.init.pt"));
            ModuleWeights.Load(net, Path.Combine(outDir, $"{name}.pt"));
            net.eval();
            var io = ModuleWeights.ReadEntries(Path.Combine(outDir, $"{name}.io.pt"));
            Assert.Equal(["input", "logits"], io.Select(e => e.Name).Order());
            var bundle = new Bundle();
            ModuleWeights.Load(bundle, Path.Combine(outDir, $"{name}.io.pt"));
            using var noGrad = no_grad();
            var logits = net.forward(bundle.Input);
            Assert.Equal(bundle.Logits.shape, logits.shape);
            Assert.True(logits.allclose(bundle.Logits, rtol: 0, atol: 1e-6), $"{name}: reloaded logits differ");
        }
    }

    /// <summary>The input and logits tensors as a module, so that the weights loader reads them back.</summary>
    private sealed class Bundle : nn.Module
    {
        public Bundle() : base("io")
        {
            register_buffer("input", zeros(4, 1, 28, 28));
            register_buffer("logits", zeros(4, 10));
        }

        public Tensor Input => get_buffer("input")!;

        public Tensor Logits => get_buffer("logits")!;
    }
}
