using Mhc.Models.Constraints;
using Mhc.Models.Diagnostics;
using Mhc.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Diagnostics;

public class HistoryDiagnosticsTests
{
    [Fact]
    public void ForwardProfiler_TimesEachCalledModule_WithTheGivenClock()
    {
        T.Init(4);
        var layers = new Module<Tensor, Tensor>[] { Linear(3, 3), Linear(3, 3) };
        var stack = new HistoryWindowSkipStack("stack", layers, [3], new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, MaxHistory = 2 });
        double now = 0;
        using var x = randn(2, 3);
        using (var profiler = ForwardProfiler.Start(stack, clockMilliseconds: () => now++))
        {
            // Each hook reads the clock once and it advances by 1 ms per read: root pre 0, layers.0 1-2, skips.0 3-4,
            // layers.1 5-6, skips.1 7-8, root post 9. The projections are called with forward() inside the skip: unseen.
            stack.call(x);
            var s = profiler.Summary();
            Assert.Equal(["layers.0", "skips.0", "layers.1", "skips.1", ""], s.Select(t => t.Name));
            Assert.All(s.Take(4), t => Assert.Equal((1, 1.0), (t.Calls, t.TotalMilliseconds)));
            Assert.Equal(9.0, s[^1].TotalMilliseconds);
            Assert.Equal(nameof(HistoryWindowSkipStack), s[^1].Type);
            stack.call(x);
            Assert.Equal((2, 2.0, 1.0), (profiler.Summary()[0].Calls, profiler.Summary()[0].TotalMilliseconds, profiler.Summary()[0].MeanMilliseconds));

            profiler.Reset();
            Assert.Empty(profiler.Summary());
        }
        // Disposed: the hooks are gone, the clock is no longer read.
        double before = now;
        stack.call(x);
        Assert.Equal(before, now);

        using var filtered = ForwardProfiler.Start(stack, (name, _) => name.StartsWith("skips", StringComparison.Ordinal), () => now++);
        stack.call(x);
        Assert.Equal(["skips.0", "skips.1"], filtered.Summary().Select(t => t.Name));
    }

    [Fact]
    public void MixingLog_RecordsNewestWeightAndEntropy()
    {
        T.Init(5);
        var layers = new Module<Tensor, Tensor>[] { Linear(2, 2), Linear(2, 2), Linear(2, 2), Linear(2, 2) };
        var stack = new HistoryWindowSkipStack("stack", layers, [2], new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, MaxHistory = 4 });
        var log = new HistoryMixingLog(stack.Skips);
        var first = log.Record(1);
        // Uniform weights over windows of 1, 2, 3, 4 states: newest 1, 1/2, 1/3, 1/4; entropy 0, ln 2, ln 3, ln 4.
        Assert.Equal([1.0, 0.5, 1 / 3.0, 0.25], Enumerable.Range(0, 4).Select(first.NewestWeight), new RoundedComparer());
        Assert.Equal([0, Math.Log(2), Math.Log(3), Math.Log(4)], Enumerable.Range(0, 4).Select(first.Entropy), new RoundedComparer());
        Assert.Equal((1 + 0.5 + 1 / 3.0 + 0.25) / 4, first.MeanNewestWeight, 6);

        // [1, 2, 4] / 7: H = -(1/7 ln 1/7 + 2/7 ln 2/7 + 4/7 ln 4/7) = ln 7 - (2 ln 2 + 4 ln 4) / 7 = ln 7 - 10 ln 2 / 7.
        Assert.Equal(Math.Log(7) - 10 * Math.Log(2) / 7, HistoryMixingSnapshot.Entropy([1 / 7f, 2 / 7f, 4 / 7f]), 6);

        // Means: newest (1 + 1/2 + 1/3 + 1/4) / 4 = 0.521; entropy (ln 2 + ln 3 + ln 4) / 4 = 0.795.
        var line = HistoryMixingLog.Format(first);
        Assert.StartsWith("epoch 1: newest-state weight mean 0.521 (min 0.250, max 1.000), mixing entropy mean 0.795 nats", line);
        Assert.Single(log.Snapshots);
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-5;
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void WindowGain_IsTheShiftPlusMixMatrix()
    {
        // H = 2, alpha = [0.25, 0.75], g = 1: M = [[0, 1], [0.25, 0.75]]. Row sums 1, 1; column sums 0.25, 1.75.
        var m = HistoryWindowGain.WindowMap([0.25f, 0.75f], 1.0, 2);
        Assert.Equal(new float[,] { { 0, 1 }, { 0.25f, 0.75f } }, m);
        // Two layers: M M = [[0.25, 0.75], [0.1875, 0.8125]]: forward 1, backward 0.4375 / 1.5625.
        var p = GainProfile.From([m, m]);
        Assert.Equal([1.0, 1.0], p.CompositeForward.Select(v => Math.Round(v, 6)));
        Assert.Equal([1.75, 1.5625], p.CompositeBackward.Select(v => Math.Round(v, 6)));
        // A first layer that has seen one state only mixes the newest slot; a gate scales the mixing row.
        Assert.Equal(new float[,] { { 0, 1 }, { 0, 0.5f } }, HistoryWindowGain.WindowMap([1f], 0.5, 2));

        T.Init(6);
        var stack = new HistoryWindowSkipStack("s", new Module<Tensor, Tensor>[] { Linear(2, 2), Linear(2, 2) }, [2],
            new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, MaxHistory = 2 });
        var profile = HistoryWindowGain.Profile(stack);
        // Layer 1 mixes [x_0] with weight 1 into the newest slot while x_0 also shifts into the old one: M = [[0, 1], [0, 1]],
        // backward gain 2. Layer 2 mixes [x_0, x_1] with [0.5, 0.5]: M = [[0, 1], [0.5, 0.5]], backward gain 1.5.
        Assert.Equal([2.0, 1.5], profile.LayerBackward.Select(v => Math.Round(v, 6)));
        Assert.Equal([1.0, 1.0], profile.LayerForward.Select(v => Math.Round(v, 6)));
    }
}
