using Mhc.Models.Transformers;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.Transformers;

public class SinusoidalPositions2DTests
{
    [Fact]
    public void RowsFillTheFirstHalf_ColumnsTheSecond()
    {
        T.Init();
        using var scope = NewDisposeScope();
        var pe = SinusoidalPositions2D.Create(rows: 3, columns: 5, dim: 8);
        Assert.Equal(new long[] { 15, 8 }, pe.shape);
        var v = T.Values(pe);
        float At(int patch, int channel) => v[patch * 8 + channel];
        // Patch (row 2, column 3) = index 13. Half width 4: frequencies 1 and 10000^(-1/2) = 0.01.
        Assert.Equal(Math.Sin(2), At(13, 0), 5);
        Assert.Equal(Math.Cos(2), At(13, 1), 5);
        Assert.Equal(Math.Sin(0.02), At(13, 2), 5);
        Assert.Equal(Math.Cos(0.02), At(13, 3), 5);
        Assert.Equal(Math.Sin(3), At(13, 4), 5);
        Assert.Equal(Math.Cos(0.03), At(13, 7), 5);
        // Patches in one row share the first half; patches in one column share the second.
        for (int c = 0; c < 4; c++) Assert.Equal(At(5, c), At(9, c));
        for (int c = 4; c < 8; c++) Assert.Equal(At(1, c), At(11, c));
        Assert.Throws<ArgumentException>(() => SinusoidalPositions2D.Create(2, 2, 6));
    }
}
