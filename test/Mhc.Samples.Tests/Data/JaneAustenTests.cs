using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class JaneAustenTests
{
    [Fact]
    public void SplitByPositionCutsEachTextAtTheFraction()
    {
        var (train, validation) = JaneAusten.SplitByPosition(["0123456789", "abcdefghijklmnopqrst"], 0.9);

        Assert.Equal("012345678\n\nabcdefghijklmnopqr", train);
        Assert.Equal("9\n\nst", validation);
    }

    [Fact]
    public void SplitLosesNoCharacters()
    {
        string text = string.Concat(Enumerable.Range(0, 997).Select(i => (char)('a' + i % 26)));

        var (train, validation) = JaneAusten.SplitByPosition([text], 0.9);

        Assert.Equal(text, train + validation);
        Assert.Equal(897, train.Length);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void SplitRejectsDegenerateFractions(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => JaneAusten.SplitByPosition(["abc"], fraction));
    }
}
