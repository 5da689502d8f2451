using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Segmentation;

public sealed class SegmentationBadInputTests
{
    public sealed class ShortMaskRow
    {
        [VectorType(SegmentationTestData.Pixels)]
        public float[] Image { get; set; } = new float[SegmentationTestData.Pixels];

        [VectorType(100)]
        public uint[] Mask { get; set; } = new uint[100];
    }

    public sealed class VariableMaskRow
    {
        [VectorType(SegmentationTestData.Pixels)]
        public float[] Image { get; set; } = new float[SegmentationTestData.Pixels];

        public float[] Mask { get; set; } = [];
    }

    public sealed class PathRow
    {
        public string Image { get; set; } = "";

        public string Mask { get; set; } = "";
    }

    private static MhcSegmentationTrainer Trainer(MLContext ml, int classes = 0)
    {
        var o = SegmentationTestData.TinyOptions(epochs: 1);
        o.NumberOfClasses = classes;
        return ml.Segmentation().Trainers.MhcUNet(o);
    }

    private static VariableMaskRow Variable(int length, float value = 1)
    {
        var row = new VariableMaskRow { Mask = new float[length] };
        Array.Fill(row.Mask, value);
        return row;
    }

    [Fact]
    public void MaskOfTheWrongFixedSize_NamesTheColumnAndBothSizes()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ShortMaskRow() });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(ml).Fit(data));
        Assert.Contains("'Mask'", e.Message);
        Assert.Contains("100 values", e.Message);
        Assert.Contains("256", e.Message);
    }

    [Fact]
    public void MaskRowOfTheWrongLength_NamesTheColumnAndTheRow()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { Variable(256), Variable(256), Variable(200) });
        var e = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(data));
        Assert.Contains("'Mask'", e.Message);
        Assert.Contains("row 2", e.Message);
        Assert.Contains("200 values", e.Message);
    }

    [Fact]
    public void NonIntegerMaskValue_IsRejectedWithRowAndPixel()
    {
        var ml = new MLContext(seed: 1);
        var bad = Variable(256);
        bad.Mask[17] = 1.5f;
        var data = ml.Data.LoadFromEnumerable(new[] { Variable(256), bad });
        var e = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(data));
        Assert.Contains("'Mask'", e.Message);
        Assert.Contains("row 1", e.Message);
        Assert.Contains("pixel 17", e.Message);
        Assert.Contains("whole class ids", e.Message);
    }

    [Fact]
    public void ClassIdBeyondTheClassCount_IsRejectedWithRowAndPixel()
    {
        var ml = new MLContext(seed: 1);
        var rows = SegmentationTestData.Squares(3, 1);
        rows[2].Mask[40] = 7;
        var e = Assert.Throws<ArgumentException>(() => Trainer(ml, classes: 3).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("'Mask'", e.Message);
        Assert.Contains("class id 7", e.Message);
        Assert.Contains("row 2", e.Message);
        Assert.Contains("pixel 40", e.Message);
        Assert.Contains("3 classes", e.Message);
    }

    // A folder of image/mask PNG pairs, as users have them: LoadImages gives MLImage columns of no declared size.
    private static IDataView PngPairs(MLContext ml, IEnumerable<(byte[] Image, byte[] Mask, int Width, int Height)> pairs)
    {
        var folder = Path.GetDirectoryName(SegmentationTestData.TempPath("x"))!;
        var rows = new List<PathRow>();
        int i = 0;
        foreach (var (image, mask, width, height) in pairs)
        {
            var row = new PathRow { Image = $"image{i}.png", Mask = $"mask{i}.png" };
            Grey(image, width, height).Save(Path.Combine(folder, row.Image));
            Grey(mask, width, height).Save(Path.Combine(folder, row.Mask));
            rows.Add(row);
            i++;
        }
        var paths = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.LoadImages("Image", folder, "Image").Append(ml.Transforms.LoadImages("Mask", folder, "Mask")).Fit(paths).Transform(paths);
    }

    private static (byte[], byte[], int, int) Blank(int width, int height) => (new byte[width * height], new byte[width * height], width, height);

    [Fact]
    public void ImagesOfMixedSizes_NameTheColumnAndTheRow()
    {
        var ml = new MLContext(seed: 1);
        var data = PngPairs(ml, [Blank(16, 16), Blank(16, 16), Blank(20, 16)]);
        var e = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(data));
        Assert.Contains("'Image'", e.Message);
        Assert.Contains("row 2", e.Message);
        Assert.Contains("20x16", e.Message);
    }

    [Fact]
    public void PngPairs_WithGreyMasks_Train_AndColouredMasksAreRejected()
    {
        var ml = new MLContext(seed: 1);
        var squares = SegmentationTestData.Squares(24, 5)
            .Select(r => (r.Image.Select(v => (byte)(v * 255)).ToArray(), r.Mask.Select(m => (byte)m).ToArray(), SegmentationTestData.Side, SegmentationTestData.Side))
            .ToList();
        var o = SegmentationTestData.TinyOptions(epochs: 1);
        var data = PngPairs(ml, squares);
        using var model = ml.Segmentation().Trainers.MhcUNet(o).Fit(data);
        Assert.Equal(3, model.Spec.NumClasses);
        var metrics = ml.Segmentation().Evaluate(model.Transform(data), "Mask");
        Assert.Equal(24, metrics.MaskCount);
        Assert.Equal(3, metrics.ClassCount);

        var folder = Path.GetDirectoryName(SegmentationTestData.TempPath("x"))!;
        var bytes = new byte[SegmentationTestData.Pixels * 4];
        Array.Fill(bytes, (byte)1);
        bytes[4 * 9 + 1] = 0;   // pixel 9 is not grey
        MLImage.CreateFromPixels(SegmentationTestData.Side, SegmentationTestData.Side, MLPixelFormat.Bgra32, bytes).Save(Path.Combine(folder, "coloured.png"));
        Grey(squares[0].Item1).Save(Path.Combine(folder, "image.png"));
        var paths = ml.Data.LoadFromEnumerable(new[] { new PathRow { Image = "image.png", Mask = "coloured.png" } });
        var coloured = ml.Transforms.LoadImages("Image", folder, "Image").Append(ml.Transforms.LoadImages("Mask", folder, "Mask")).Fit(paths).Transform(paths);
        var e = Assert.Throws<ArgumentException>(() => ml.Segmentation().Trainers.MhcUNet(o).Fit(coloured));
        Assert.Contains("'Mask'", e.Message);
        Assert.Contains("row 0", e.Message);
        Assert.Contains("not grey at pixel 9", e.Message);
    }

    [Fact]
    public void Evaluate_RejectsMasksOfDifferentLengths_AndOutOfRangeIds()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[]
        {
            new EvalRow { Mask = [0, 1, 2, 1], PredictedMask = [0, 1, 1, 1] },
            new EvalRow { Mask = [0, 1, 2], PredictedMask = [0, 1, 1, 1] },
        });
        var e = Assert.Throws<ArgumentException>(() => ml.Segmentation().Evaluate(data, "Mask"));
        Assert.Contains("row 1", e.Message);
        var ok = ml.Data.LoadFromEnumerable(new[] { new EvalRow { Mask = [0, 1, 2, 1], PredictedMask = [0, 1, 1, 1] } });
        Assert.Equal(0.75, ml.Segmentation().Evaluate(ok, "Mask").PixelAccuracy, 10);
        Assert.Contains("numberOfClasses is 2", Assert.Throws<ArgumentException>(() => ml.Segmentation().Evaluate(ok, "Mask", numberOfClasses: 2)).Message);
    }

    public sealed class EvalRow
    {
        public uint[] Mask { get; set; } = [];

        public uint[] PredictedMask { get; set; } = [];
    }

    private static MLImage Grey(byte[] values, int width = SegmentationTestData.Side, int height = SegmentationTestData.Side)
    {
        var bgra = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            bgra[4 * i] = bgra[4 * i + 1] = bgra[4 * i + 2] = values[i];
            bgra[4 * i + 3] = 255;
        }
        return MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, bgra);
    }
}
