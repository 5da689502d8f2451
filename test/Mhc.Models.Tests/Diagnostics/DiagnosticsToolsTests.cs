using Mhc.Models.Diagnostics;
using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Diagnostics;

[Collection(Mhc.Models.Tests.Injection.GlobalTorchRng.Name)]
public class DiagnosticsToolsTests
{
    [Fact]
    public void GainProfile_MatchesHandWorkedProducts()
    {
        // H1 = [[2, 0], [0, 1]], H2 = [[1, 1], [0, 1]]; H2 H1 = [[2, 1], [0, 1]].
        var h1 = new float[,] { { 2, 0 }, { 0, 1 } };
        var h2 = new float[,] { { 1, 1 }, { 0, 1 } };
        var p = GainProfile.From(new[] { h1, h2 });
        Assert.Equal(new[] { 2.0, 2.0 }, p.LayerForward);
        Assert.Equal(new[] { 2.0, 2.0 }, p.LayerBackward);
        Assert.Equal(new[] { 2.0, 3.0 }, p.CompositeForward);
        Assert.Equal(new[] { 2.0, 2.0 }, p.CompositeBackward);
        Assert.Equal(3.0, p.FinalForward);
        Assert.Equal(1.0, GainProfile.From(Array.Empty<float[,]>()).FinalForward);
        Assert.Throws<ArgumentException>(() => GainProfile.From(new[] { h1, new float[3, 3] }));
    }

    [Fact]
    public void Recording_IsScoped_AndOffCostsNoRecord()
    {
        T.Init(21);
        using var scope = NewDisposeScope();
        var o = new HyperConnectionOptions { Dim = 4, Mixing = new() { ExpansionRate = 4, Connection = ConnectionKind.Mhc }};
        var stack = HyperSequential.FromBranches("s", Enumerable.Range(0, 3).Select(_ => (Module<Tensor, Tensor>)Linear(4, 4)), o);
        var x = randn(2, 4);
        stack.forward(x);
        Assert.All(stack.HyperConnections, h => Assert.Null(h.LastResidualMixing));

        stack.HyperConnections[0].RecordDiagnostics = true;   // a caller's own setting survives the scope
        MixingDiagnostics d;
        using (var rec = MixingRecording.Start(stack.HyperConnections))
        {
            Assert.All(stack.HyperConnections, h => Assert.True(h.RecordDiagnostics));
            stack.forward(x);
            d = rec.Collect();
        }
        Assert.Equal(new[] { true, false, false }, stack.HyperConnections.Select(h => h.RecordDiagnostics));
        Assert.Equal(3, d.Layers.Count);
        // mHC: every H_res is doubly stochastic, so per-layer and composite gains are 1.
        var profile = GainProfile.From(d);
        Assert.All(profile.CompositeForward, g => Assert.InRange(g, 0.999, 1.001));
        Assert.Equal(d.CompositeForwardGain, profile.FinalForward, 9);
        Assert.Equal(d.CompositeBackwardGain, profile.FinalBackward, 9);
    }

    [Fact]
    public void GradientNorms_MatchManualSum()
    {
        T.Init(22);
        using var scope = NewDisposeScope();
        var o = new HyperConnectionOptions { Dim = 4, Mixing = new() { ExpansionRate = 2, Connection = ConnectionKind.Hc }};
        var stack = HyperSequential.FromBranches("s", Enumerable.Range(0, 2).Select(_ => (Module<Tensor, Tensor>)Linear(4, 4)), o);
        Assert.Null(GradientNorms.Total(stack.parameters()));
        stack.forward(randn(3, 4)).square().sum().backward();

        double manual = Math.Sqrt(stack.parameters().Where(p => p.grad is not null).Sum(p => p.grad!.square().sum().ToDouble()));
        Assert.Equal(manual, GradientNorms.Total(stack.parameters())!.Value, 4);

        var per = GradientNorms.PerLayer(stack.HyperConnections);
        Assert.Equal(2, per.Count);
        Assert.All(per, l => Assert.True(l.Total >= l.Mixing));
        var own = stack.HyperConnections[0].parameters(recurse: false).ToList();
        Assert.DoesNotContain(own, p => stack.HyperConnections[0].Branch.parameters().Contains(p));
        Assert.Equal(Math.Sqrt(own.Sum(p => p.grad!.square().sum().ToDouble())), per[0].Mixing!.Value, 4);
    }
}
