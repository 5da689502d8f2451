using Mhc.Samples.Figures;

namespace Mhc.Samples.Tests.Data.Figures;

public class TrailingMeanTests
{
    [Fact]
    public void Of_AveragesTheLastValues_AndFewerAtTheStart()
    {
        Assert.Equal(new[] { 1.0, 1.5, 2.5, 3.5, 4.5 }, TrailingMean.Of([1, 2, 3, 4, 5], 2));
        Assert.Equal(new[] { 4.0, 3.0, 2.0 }, TrailingMean.Of([4, 2, 0], 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrailingMean.Of([1], 0));
    }
}
