using Benchmarks;
using Mhc.Interop.Tests;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using Mhc.Models.Weights;
using Mhc.Samples.Tests.Data;
using static TorchSharp.torch;

namespace Mhc.Samples.Tests.Samples;

/// <summary>
/// The fixtures the PyTorch twin is checked on (<c>interop/pytorch/check.py</c>, which CI cannot run): every network's
/// weights (Hyper-ResNets and text decoders) and its input and logits are written, and the weights reload into the same network, which then reproduces
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
        var networks = InteropExportSuite.Networks.Select(n => (n.Name, (Func<nn.Module<Tensor, Tensor>>)(() => new HyperResNet(n.Options))))
            .Concat(InteropExportSuite.Decoders.Select(d => (d.Name, (Func<nn.Module<Tensor, Tensor>>)(() => new HyperDecoderTransformer(d.Options)))));
        foreach (var (name, create) in networks)
        {
            using var scope = NewDisposeScope();
            var net = create();
            // The initial weights fit the same network (check.py compares the twin's initialisation with them).
            ModuleWeights.Load(net, Path.Combine(outDir, $"{name}.init.pt"));
            ModuleWeights.Load(net, Path.Combine(outDir, $"{name}.pt"));
            net.eval();
            var io = ModuleWeights.ReadEntries(Path.Combine(outDir, $"{name}.io.pt"));
            Assert.Equal(["input", "logits"], io.Select(e => e.Name).Order());
            var (input, expected) = TwinFixtureFiles.ReadIoFile(Path.Combine(outDir, $"{name}.io.pt"));
            using var noGrad = no_grad();
            var logits = net.forward(input);
            Assert.Equal(expected.shape, logits.shape);
            Assert.True(logits.allclose(expected, rtol: 0, atol: 1e-6), $"{name}: reloaded logits differ");
        }
    }
}
