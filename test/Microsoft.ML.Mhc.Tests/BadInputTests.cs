using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML.Mhc.Tests;

public sealed class BadInputTests
{
    private readonly MLContext ml = new(seed: 1);

    private Exception FitError(IDataView data, Action<MhcImageClassificationTrainer.Options>? change = null, bool mapLabel = true)
    {
        var options = TestData.TinyOptions(epochs: 1);
        change?.Invoke(options);
        IEstimator<ITransformer> trainer = ml.MulticlassClassification.Trainers.MhcImage(options);
        var pipeline = mapLabel ? ml.Transforms.Conversion.MapValueToKey("Label").Append(trainer) : trainer;
        return Assert.ThrowsAny<Exception>(() => pipeline.Fit(data));
    }

    [Fact]
    public void MissingFeatureColumnIsNamed()
    {
        var e = FitError(ml.Data.LoadFromEnumerable(TestData.Bars(3, 1)), o => o.FeatureColumnName = "Image");
        Assert.Contains("'Image'", e.Message);
        Assert.Contains("was not found", e.Message);
        Assert.Contains("'Pixels'", e.Message);
    }

    [Fact]
    public void WrongVectorSizeSaysExpectedAndFound()
    {
        var e = FitError(ml.Data.LoadFromEnumerable(TestData.Bars(3, 1)), o => { o.ImageHeight = 10; o.ImageWidth = 10; });
        Assert.Contains("'Pixels'", e.Message);
        Assert.Contains("64 values", e.Message);
        Assert.Contains("= 100", e.Message);
    }

    [Fact]
    public void NonKeyLabelAsksForMapValueToKey()
    {
        var e = FitError(ml.Data.LoadFromEnumerable(TestData.Bars(3, 1)), mapLabel: false);
        Assert.Contains("'Label' must be a key type", e.Message);
        Assert.Contains("MapValueToKey", e.Message);
    }

    [Fact]
    public void NaNPixelNamesTheRowAndSlot()
    {
        var rows = TestData.Bars(3, 1);
        rows[4].Pixels[17] = float.NaN;
        var e = FitError(ml.Data.LoadFromEnumerable(rows));
        Assert.Contains("non-finite", e.Message);
        Assert.Contains("row 4", e.Message);
        Assert.Contains("slot 17", e.Message);
    }

    [Fact]
    public void EmptyDataIsRejected()
    {
        var e = FitError(ml.Data.LoadFromEnumerable(new List<BarImage>()));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void SingleClassIsRejected()
    {
        var rows = TestData.Bars(4, 1).Where(r => r.Label == "vertical").ToList();
        var e = FitError(ml.Data.LoadFromEnumerable(rows));
        Assert.Contains("single class", e.Message);
    }

    [Fact]
    public void SingleClassPresentAmongSeveralKeysIsRejected()
    {
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(TestData.Bars(2, 1)));
        var onlyOne = keyed.Transform(ml.Data.LoadFromEnumerable(TestData.Bars(4, 1).Where(r => r.Label == "diagonal").ToList()));
        var e = Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.MhcImage(TestData.TinyOptions(1)).Fit(onlyOne));
        Assert.Contains("single class ('diagonal'", e.Message);
    }

    [Fact]
    public void UnresizedImageColumnAsksForResize()
    {
        var schema = new DataViewSchema.Builder();
        schema.AddColumn("Image", new Microsoft.ML.Transforms.Image.ImageDataViewType());
        var e = Assert.ThrowsAny<ArgumentException>(() =>
            Microsoft.ML.Mhc.DataViews.ImageFeatureColumn.FromSchema(schema.ToSchema(), "Image", 1, 8, 8));
        Assert.Contains("ResizeImages", e.Message);
    }

    [Fact]
    public void BadOptionsNameTheOption()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.MhcImage(new MhcImageClassificationTrainer.Options { BatchSize = 0 }));
        Assert.Contains("BatchSize", e.Message);
        var stop = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.MhcImage(new MhcImageClassificationTrainer.Options { EarlyStoppingPatience = 2 }));
        Assert.Contains("ValidationSet", stop.Message);
    }

    [Fact]
    public void ScoringDataWithWrongSizeIsRejected()
    {
        var schema = new DataViewSchema.Builder();
        schema.AddColumn("Pixels", new VectorDataViewType(NumberDataViewType.Single, 49));
        var e = Assert.ThrowsAny<ArgumentException>(() =>
            Microsoft.ML.Mhc.DataViews.ImageFeatureColumn.FromSchema(schema.ToSchema(), "Pixels", 1, 8, 8));
        Assert.Contains("49 values", e.Message);
    }
}
