using System.Globalization;
using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class MnistDigitsTests
{
    // Digit k of class c has pixel 0 = c/10 and pixel 1 = k/100, so every image is identifiable.
    private static void WriteDigits(TempDirectory dir, Func<int, int> countOf)
    {
        for (int c = 0; c < 10; c++)
        {
            var values = new List<string>();
            for (int k = 0; k < countOf(c); k++)
            {
                var pixels = new double[784];
                pixels[0] = c / 10.0;
                pixels[1] = k / 100.0;
                pixels[400] = 1;
                values.AddRange(pixels.Select(p => p.ToString(CultureInfo.InvariantCulture)));
            }

            File.WriteAllText(dir.File($"{c}.json"), "{ \"data\": [" + string.Join(",", values) + "]}");
        }
    }

    [Fact]
    public void LoadsEveryClassFileInOrder()
    {
        using var dir = new TempDirectory();
        WriteDigits(dir, c => c + 1);

        var mnist = MnistDigits.Load(dir.Path);

        Assert.Equal(Enumerable.Range(1, 10), mnist.CountPerClass());
        Assert.Equal(55, mnist.Examples.Count);
        var firstThree = mnist.Examples.Where(e => e.Label == 3).ToList();
        Assert.Equal(0.3f, firstThree[0].Pixels[0]);
        Assert.Equal(new[] { 0f, 0.01f, 0.02f, 0.03f }, firstThree.Select(e => e.Pixels[1]));
        Assert.All(mnist.Examples, e => Assert.Equal(1f, e.Pixels[400]));
    }

    [Fact]
    public void SplitIsPerClassDeterministicAndDisjoint()
    {
        using var dir = new TempDirectory();
        WriteDigits(dir, _ => 10);
        var mnist = MnistDigits.Load(dir.Path);

        var a = mnist.SplitPerClass(seed: 5);
        var b = mnist.SplitPerClass(seed: 5);
        var c = mnist.SplitPerClass(seed: 6);

        Assert.Equal(80, a.Train.Count);
        Assert.Equal(20, a.Test.Count);
        Assert.All(Enumerable.Range(0, 10), d => Assert.Equal(8, a.Train.Count(e => e.Label == d)));
        Assert.Empty(a.Train.Intersect(a.Test));
        Assert.Equal(100, a.Train.Concat(a.Test).Distinct().Count());
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Test, b.Test);
        Assert.NotEqual(a.Train, c.Train);
    }

    [Fact]
    public void WrongLengthNamesTheFile()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("4.json"), "{\"data\":[0,0.5,1]}");

        var ex = Assert.Throws<InvalidDataException>(() => MnistDigits.ReadClassFile(dir.File("4.json"), 4));

        Assert.Contains("4.json", ex.Message);
        Assert.Contains("multiple of 784", ex.Message);
    }

    [Fact]
    public void OutOfRangePixelAndBadJsonFail()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("a.json"), "{\"data\":[0,2]}");
        File.WriteAllText(dir.File("b.json"), "{\"data\":[0,");
        File.WriteAllText(dir.File("c.json"), "{\"pixels\":[]}");

        Assert.Contains("0..1", Assert.Throws<InvalidDataException>(() => MnistDigits.ReadClassFile(dir.File("a.json"), 0)).Message);
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => MnistDigits.ReadClassFile(dir.File("b.json"), 0)).Message);
        Assert.Contains("no \"data\" array", Assert.Throws<InvalidDataException>(() => MnistDigits.ReadClassFile(dir.File("c.json"), 0)).Message);
    }

    [Fact]
    public void MissingClassFilesPointToTheFetchScript()
    {
        using var dir = new TempDirectory();
        WriteDigits(dir, _ => 1);
        File.Delete(dir.File("7.json"));

        var ex = Assert.Throws<DataMissingException>(() => MnistDigits.Load(dir.Path));

        Assert.Equal(new[] { "7.json" }, ex.Missing);
        Assert.Contains("bash build/get-data.sh mnist", ex.Message);
    }
}
