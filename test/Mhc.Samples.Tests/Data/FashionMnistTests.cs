using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class FashionMnistTests
{
    private static void WriteSplit(TempDirectory dir, string prefix, byte[] labels, bool gzip)
    {
        int n = labels.Length;
        var pixels = new byte[n * 28 * 28];
        for (int i = 0; i < n; i++)
        {
            pixels[i * 784] = 255;           // first pixel full ink
            pixels[i * 784 + 783] = (byte)i; // last pixel encodes the index
        }

        string ext = gzip ? ".gz" : "";
        IdxTestFiles.Write(dir.File($"{prefix}-images-idx3-ubyte{ext}"), [n, 28, 28], pixels, gzip);
        IdxTestFiles.Write(dir.File($"{prefix}-labels-idx1-ubyte{ext}"), [n], labels, gzip);
    }

    [Fact]
    public void LoadsBothSplitsScaledToUnitRange()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "train", [3, 9, 0], gzip: true);
        WriteSplit(dir, "t10k", [7, 1], gzip: false);

        var data = FashionMnist.Load(dir.Path);

        Assert.Equal(new[] { 3, 9, 0 }, data.Train.Select(e => e.Label));
        Assert.Equal(new[] { 7, 1 }, data.Test.Select(e => e.Label));
        Assert.All(data.Train, e => Assert.Equal(784, e.Pixels.Length));
        Assert.Equal(1f, data.Train[0].Pixels[0]);
        Assert.Equal(2 / 255f, data.Train[2].Pixels[783]);
        Assert.Equal("Ankle boot", FashionMnist.ClassNames[data.Train[1].Label]);
    }

    [Fact]
    public void MismatchedLabelCountFails()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "train", [1, 2], gzip: false);
        IdxTestFiles.Write(dir.File("train-labels-idx1-ubyte"), [3], [1, 2, 3], gzip: false);

        var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadSplit(dir.File("train-images-idx3-ubyte"), dir.File("train-labels-idx1-ubyte")));
        Assert.Contains("expected labels of shape [2]", ex.Message);
    }

    [Fact]
    public void OutOfRangeLabelFails()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "train", [1, 10], gzip: false);

        var ex = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadSplit(dir.File("train-images-idx3-ubyte"), dir.File("train-labels-idx1-ubyte")));
        Assert.Contains("label 1 is 10", ex.Message);
    }

    [Fact]
    public void MissingFilesPointToTheFetchScript()
    {
        using var dir = new TempDirectory();
        WriteSplit(dir, "train", [1], gzip: true);

        var ex = Assert.Throws<DataMissingException>(() => FashionMnist.Load(dir.Path));

        Assert.Contains("bash build/get-data.sh fashion-mnist", ex.Message);
        Assert.Equal(2, ex.Missing.Count);
    }
}
