using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Segmentation;

public class SegmentationMetricsTests
{
    [Fact]
    public void HandWorkedExample()
    {
        // truth     0 0 1 1 2 2 0 0      predicted 0 1 1 1 2 0 0 0
        // class 0: TP 3 (pixels 0, 6, 7), FN 1 (pixel 1), FP 1 (pixel 5)  -> IoU 3/5, Dice 6/8
        // class 1: TP 2, FP 1, FN 0 -> IoU 2/3, Dice 4/5
        // class 2: TP 1, FP 0, FN 1 -> IoU 1/2, Dice 2/3
        var confusion = new SegmentationConfusion(3);
        confusion.Add([0, 0, 1, 1, 2, 2, 0, 0], [0, 1, 1, 1, 2, 0, 0, 0]);
        var m = confusion.ToMetrics(["bg", "a", "b"]);
        Assert.Equal(6.0 / 8, m.PixelAccuracy, 12);
        Assert.Equal(new[] { 3.0 / 5, 2.0 / 3, 1.0 / 2 }, m.PerClassIoU.Select(v => Math.Round(v, 12)), new RoundedComparer());
        Assert.Equal((3.0 / 5 + 2.0 / 3 + 1.0 / 2) / 3, m.MeanIoU, 12);
        Assert.Equal((6.0 / 8 + 4.0 / 5 + 2.0 / 3) / 3, m.MeanDice, 12);
        // Frequencies of true pixels: 4/8, 2/8, 2/8.
        Assert.Equal(0.5 * 3 / 5 + 0.25 * 2 / 3 + 0.25 * 0.5, m.FrequencyWeightedIoU, 12);
        Assert.Equal(new long[] { 3, 1, 0 }, m.ConfusionMatrix[0]);
        Assert.Equal(8, m.PixelCount);
        Assert.Equal(1, m.MaskCount);
        var text = m.ToString();
        Assert.Contains("mean IoU", text);
        Assert.Contains("0.6667", text);
        Assert.Contains("confusion matrix", text);
    }

    [Fact]
    public void AbsentClass_IsLeftOutOfTheMeans()
    {
        var confusion = new SegmentationConfusion(3);
        confusion.Add([0, 1, 1], [0, 1, 1]);
        var m = confusion.ToMetrics();
        Assert.True(double.IsNaN(m.PerClassIoU[2]));
        Assert.Equal(1.0, m.MeanIoU);
        Assert.Matches(@"(?m)^\s+2\s+-\s+-\s+0\s*$", m.ToString());
    }

    [Fact]
    public void OutOfRangeIds_AndLengthMismatch_AreExplained()
    {
        var confusion = new SegmentationConfusion(2);
        Assert.Contains("pixel 1", Assert.Throws<ArgumentException>(() => confusion.Add([0, 2], [0, 0])).Message);
        Assert.Contains("3 pixels", Assert.Throws<ArgumentException>(() => confusion.Add([0, 1, 1], [0, 1])).Message);
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}
