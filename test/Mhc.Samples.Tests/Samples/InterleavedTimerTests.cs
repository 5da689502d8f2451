using Benchmarks;

namespace Mhc.Samples.Tests.Samples;

public class InterleavedTimerTests
{
    [Fact]
    public void Median_OfOddAndEvenCounts()
    {
        Assert.Equal(3, InterleavedTimer.Median([5, 1, 3]));
        Assert.Equal(2.5, InterleavedTimer.Median([4, 1, 2, 3]));
        Assert.Throws<ArgumentException>(() => InterleavedTimer.Median([]));
    }

    [Fact]
    public void Variants_RunInterleaved_InRotatingOrder_AfterWarmup()
    {
        var calls = new List<string>();
        var medians = InterleavedTimer.MedianMilliseconds(
            [("a", () => calls.Add("a")), ("b", () => calls.Add("b")), ("c", () => calls.Add("c"))], warmup: 1, repeats: 3);

        // One warm-up call each, then rounds abc, bca, cab.
        Assert.Equal("abcabcbcacab", string.Concat(calls));
        Assert.Equal(["a", "b", "c"], medians.Keys.Order());
        Assert.All(medians.Values, m => Assert.True(m >= 0));
    }

    [Fact]
    public void Timing_SeparatesASlowVariantFromAFastOne()
    {
        var medians = InterleavedTimer.MedianMilliseconds(
            [("fast", () => { }), ("slow", () => Thread.Sleep(20))], warmup: 0, repeats: 5);
        Assert.True(medians["slow"] >= 15, $"slow = {medians["slow"]} ms");
        Assert.True(medians["fast"] < medians["slow"] / 4, $"fast = {medians["fast"]} ms");
    }

    [Fact]
    public void BadArguments_ExitWithUsageError()
    {
        Assert.Equal(2, Benchmarks.Program.Main(["--suite", "no-such-suite"]));
        Assert.Equal(0, Benchmarks.Program.Main(["--help"]));
    }
}
