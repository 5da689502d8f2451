using Mhc.Models.Vision;
using Mhc.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Weights;

public sealed class ModuleWeightsTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "mhc-weights-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    /// <summary>Bit-for-bit equality: same dtype, shape and every element.</summary>
    private static bool Same(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static HyperResNet Net(long seed, int baseWidth = 4, int[]? depths = null)
    {
        T.Init(seed);
        var net = new HyperResNet(new HyperResNetOptions
        {
            InChannels = 1, NumClasses = 3, ImageHeight = 8, ImageWidth = 8, StageDepths = depths ?? [1, 1], BaseWidth = baseWidth,
        });
        net.eval();
        return net;
    }

    [Theory]
    [InlineData("net.safetensors", null)]
    [InlineData("net.pt", null)]
    [InlineData("net.weights", WeightsFormat.PyTorch)]
    public void RoundTrip_EveryTensorAndTheOutputsAreExactlyEqual(string name, WeightsFormat? format)
    {
        using var scope = NewDisposeScope();
        var source = Net(1);
        var target = Net(2);
        var path = ModuleWeights.Save(source, Path.Combine(folder, name), format);
        ModuleWeights.Load(target, path, format);

        var a = source.state_dict();
        var b = target.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (key, value) in a)
        {
            Assert.Equal(value.dtype, b[key].dtype);
            Assert.True(Same(value, b[key]), $"tensor '{key}' differs after the round trip");
        }
        var x = randn(2, 1, 8, 8);
        using (no_grad())
            Assert.True(Same(source.forward(x), target.forward(x)));
    }

    [Fact]
    public void Entries_NameTheHyperConnectionParameters_AndTheFileListsTheSame()
    {
        using var scope = NewDisposeScope();
        var net = Net(3);
        var path = ModuleWeights.Save(net, Path.Combine(folder, "n.safetensors"));
        var entries = ModuleWeights.Entries(net);
        Assert.Contains(entries, e => e.Name == "blocks.0.phi");
        Assert.Equal(entries.OrderBy(e => e.Name).Select(e => e.ToString()),
            ModuleWeights.ReadEntries(path).OrderBy(e => e.Name).Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("w.safetensors")]
    [InlineData("w.pt")]
    public void WrongShape_NamesTheTensorWithExpectedAndFoundShape_AndLeavesTheNetworkAlone(string name)
    {
        using var scope = NewDisposeScope();
        var path = ModuleWeights.Save(Net(4, baseWidth: 8), Path.Combine(folder, name));
        var target = Net(5, baseWidth: 4);
        var before = target.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var e = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(target, path));
        var expected = ModuleWeights.Entries(target).First(t => t.Name.StartsWith("stem", StringComparison.Ordinal) && t.Name.EndsWith("weight", StringComparison.Ordinal));
        var found = ModuleWeights.ReadEntries(path).Single(t => t.Name == expected.Name);
        Assert.Contains($"tensor '{expected.Name}': expected shape {expected.ShapeText}, found {found.ShapeText}", e.Message);
        foreach (var (key, value) in target.state_dict())
            Assert.True(Same(value, before[key]), $"'{key}' changed although the load failed");
    }

    [Theory]
    [InlineData("m.safetensors")]
    [InlineData("m.pt")]
    public void MissingAndUnexpectedTensors_AreNamed(string name)
    {
        using var scope = NewDisposeScope();
        // One stage more in the file: its tensors are unexpected; one stage less: the network's are missing.
        var deeper = ModuleWeights.Save(Net(6, depths: [1, 1, 1]), Path.Combine(folder, "deep-" + name));
        var shallower = ModuleWeights.Save(Net(7, depths: [1]), Path.Combine(folder, "shallow-" + name));
        var e1 = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(Net(8), deeper));
        // The listing stops at 20 problems; the new stage's tensors are there, in name order.
        Assert.Contains("unexpected tensor 'blocks.2.", e1.Message);
        var e2 = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(Net(9), shallower));
        Assert.Contains("missing tensor 'blocks.1.phi' (expected Float32", e2.Message);
    }

    [Theory]
    [InlineData("d.safetensors")]
    [InlineData("d.pt")]
    public void WrongDtype_NamesTheTensorWithExpectedAndFoundDtype(string name)
    {
        using var scope = NewDisposeScope();
        var doubled = Net(10);
        doubled.to(ScalarType.Float64);
        var path = ModuleWeights.Save(doubled, Path.Combine(folder, name));
        var e = Assert.Throws<InvalidDataException>(() => ModuleWeights.Load(Net(11), path));
        Assert.Contains("tensor 'blocks.0.phi': expected dtype Float32, found Float64", e.Message);
    }

    [Fact]
    public void FailedSave_LeavesTheOldFileAndNoTemporaryFile()
    {
        using var scope = NewDisposeScope();
        var path = ModuleWeights.Save(Net(12, baseWidth: 8), Path.Combine(folder, "a.safetensors"));
        var old = File.ReadAllBytes(path);
        var broken = Net(13);
        // safetensors has no complex dtype: the writer throws after the temporary file was created.
        broken.register_buffer("unwritable", zeros(2, dtype: ScalarType.ComplexFloat32));
        Assert.ThrowsAny<Exception>(() => ModuleWeights.Save(broken, path));
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
    }

    [Fact]
    public void SavingASmallerNetworkOverALargerFile_GivesAFileThatLoads()
    {
        // PyBridge's static writers keep the tail of a longer existing file; the module writer on a fresh file must not.
        using var scope = NewDisposeScope();
        var path = Path.Combine(folder, "s.safetensors");
        ModuleWeights.Save(Net(14, baseWidth: 8, depths: [2, 2]), path);
        var small = Net(15);
        ModuleWeights.Save(small, path);
        var target = Net(16);
        ModuleWeights.Load(target, path);
        Assert.True(Same(small.state_dict()["blocks.0.phi"], target.state_dict()["blocks.0.phi"]));
    }

    [Fact]
    public void MissingFile_Throws()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<FileNotFoundException>(() => ModuleWeights.Load(Net(17), Path.Combine(folder, "none.safetensors")));
    }
}
