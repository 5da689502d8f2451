using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class IdxReaderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsShapeAndValuesRawOrGzipped(bool gzip)
    {
        using var dir = new TempDirectory();
        var data = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 20)).ToArray();
        IdxTestFiles.Write(dir.File("x.idx"), [3, 2, 2], data, gzip);

        var array = IdxReader.Read(dir.File("x.idx"));

        Assert.Equal(new[] { 3, 2, 2 }, array.Shape);
        Assert.Equal(3, array.Count);
        Assert.Equal(4, array.ItemSize);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void TruncatedFileNamesWhatWasMissing()
    {
        var bytes = IdxTestFiles.Encode([2, 3], [1, 2, 3, 4, 5, 6])[..^2];

        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Read(new MemoryStream(bytes), "t.idx"));

        Assert.Contains("t.idx", ex.Message);
        Assert.Contains("ends early", ex.Message);
    }

    [Fact]
    public void RejectsBadMagicAndNonByteTypes()
    {
        var floats = IdxTestFiles.Encode([1], [0, 0, 0, 0]);
        floats[2] = 0x0D;

        Assert.Contains("not an IDX file", Assert.Throws<InvalidDataException>(() => IdxReader.Read(new MemoryStream("PK\u0003\u0004"u8.ToArray()))).Message);
        Assert.Contains("0x0D", Assert.Throws<NotSupportedException>(() => IdxReader.Read(new MemoryStream(floats))).Message);
    }
}
