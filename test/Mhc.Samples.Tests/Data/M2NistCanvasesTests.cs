using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class M2NistCanvasesTests
{
    // Synthetic 28x28 "digits": a filled rectangle whose size depends on the class, with a faint
    // (0.3) border row so the ink threshold is exercised. Index i is encoded in the corner value.
    private static List<ImageExample> Digits(int perClass)
    {
        var digits = new List<ImageExample>();
        for (int c = 0; c < 10; c++)
        {
            for (int k = 0; k < perClass; k++)
            {
                var p = new float[784];
                int h = 8 + c, w = 6 + (k % 10);
                for (int y = 4; y < 4 + h; y++)
                {
                    for (int x = 5; x < 5 + w; x++)
                    {
                        p[y * 28 + x] = y == 4 ? 0.3f : 0.9f;
                    }
                }

                digits.Add(new ImageExample(p, c));
            }
        }

        return digits;
    }

    [Fact]
    public void CanvasesHaveOneToThreeNonOverlappingDigitsAndValidMasks()
    {
        var canvases = M2NistCanvases.Generate(Digits(3), count: 60, seed: 1);

        Assert.Equal(60, canvases.Count);
        foreach (var canvas in canvases)
        {
            Assert.Equal(64 * 64, canvas.Image.Length);
            Assert.Equal(64 * 64, canvas.Mask.Length);
            Assert.InRange(canvas.Placements.Count, 1, 3);
            for (int i = 0; i < canvas.Placements.Count; i++)
            {
                var p = canvas.Placements[i];
                Assert.InRange(p.X, 0, 64 - p.Width);
                Assert.InRange(p.Y, 0, 64 - p.Height);
                for (int j = i + 1; j < canvas.Placements.Count; j++)
                {
                    Assert.False(p.Overlaps(canvas.Placements[j]), $"boxes {i} and {j} overlap");
                }
            }

            for (int at = 0; at < canvas.Mask.Length; at++)
            {
                Assert.InRange(canvas.Mask[at], 0, 10);
                Assert.Equal(canvas.Image[at] >= 0.5f, canvas.Mask[at] != M2NistCanvases.Background);
                var owner = canvas.Placements.SingleOrDefault(p => p.X <= at % 64 && at % 64 < p.X + p.Width && p.Y <= at / 64 && at / 64 < p.Y + p.Height);
                if (canvas.Mask[at] != 0)
                {
                    Assert.NotNull(owner);
                    Assert.Equal(M2NistCanvases.LabelOfDigit(owner.Digit), canvas.Mask[at]);
                }
                else if (owner is null)
                {
                    Assert.Equal(0f, canvas.Image[at]);
                }
            }
        }

        Assert.Equal(new[] { 1, 2, 3 }, canvases.Select(c => c.Placements.Count).Distinct().Order());
    }

    [Fact]
    public void BoxesAreTightAroundTheInk()
    {
        var canvases = M2NistCanvases.Generate(Digits(2), count: 20, seed: 3);

        foreach (var p in canvases.SelectMany(c => c.Placements))
        {
            Assert.Equal(8 + p.Digit, p.Height); // class c's synthetic digit is 8 + c rows tall
        }
    }

    [Fact]
    public void SameSeedSameCanvasesOtherSeedDifferent()
    {
        var digits = Digits(2);

        var a = M2NistCanvases.Generate(digits, 10, seed: 42);
        var b = M2NistCanvases.Generate(digits, 10, seed: 42);
        var c = M2NistCanvases.Generate(digits, 10, seed: 43);

        Assert.Equal(a.Select(x => x.Image), b.Select(x => x.Image));
        Assert.Equal(a.Select(x => x.Mask), b.Select(x => x.Mask));
        Assert.NotEqual(a.Select(x => x.Mask), c.Select(x => x.Mask));
    }

    [Fact]
    public void CanvasesUseOnlyTheGivenDigits()
    {
        // Class 0 offered only as width-6 digits and class 1 only as width-15; nothing else may appear.
        var digits = Digits(10).Where(d => (d.Label == 0 && d.Pixels[4 * 28 + 11] == 0) || (d.Label == 1 && d.Pixels[4 * 28 + 19] != 0)).ToList();
        Assert.Equal(2, digits.Count);

        var canvases = M2NistCanvases.Generate(digits, 30, seed: 9);

        Assert.All(canvases.SelectMany(c => c.Placements), p =>
            Assert.True((p.Digit == 0 && p.Width == 6) || (p.Digit == 1 && p.Width == 15), $"unexpected digit {p.Digit} of width {p.Width}"));
    }

    [Fact]
    public void RejectsWrongSizedAndBlankDigits()
    {
        Assert.Contains("expected 784", Assert.Throws<ArgumentException>(() => M2NistCanvases.Generate([new ImageExample(new float[10], 1)], 1, 0)).Message);
        Assert.Contains("blank", Assert.Throws<ArgumentException>(() => M2NistCanvases.Generate([new ImageExample(new float[784], 1)], 1, 0)).Message);
    }
}
