using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.Mhc.Tests;

public sealed class MLImageInputTests
{
    public sealed class ImageRow
    {
        [ImageType(TestData.Size, TestData.Size)]
        public MLImage? Image { get; set; }

        public string Label { get; set; } = "";
    }

    public sealed class ImagePrediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedLabel { get; set; } = "";
    }

    private static List<ImageRow> Images(int perClass, int seed) => TestData.Bars(perClass, seed).Select(b =>
    {
        var bgra = new byte[b.Pixels.Length * 4];
        for (int i = 0; i < b.Pixels.Length; i++)
        {
            byte v = (byte)Math.Clamp(b.Pixels[i], 0, 255);
            bgra[4 * i] = v;
            bgra[4 * i + 1] = v;
            bgra[4 * i + 2] = v;
            bgra[4 * i + 3] = 255;
        }
        return new ImageRow { Image = MLImage.CreateFromPixels(TestData.Size, TestData.Size, MLPixelFormat.Bgra32, bgra), Label = b.Label };
    }).ToList();

    [Fact]
    public void TrainsOnAnMLImageColumnAndRoundTrips()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(Images(30, 1));
        var test = ml.Data.LoadFromEnumerable(Images(10, 2));
        var options = TestData.TinyOptions();
        options.FeatureColumnName = "Image";
        var model = TestData.Pipeline(ml, options).Fit(train);
        // ML.NET's image transforms dispose in-memory MLImage objects after one pass, so every pass reads fresh rows.
        IDataView Test(MLContext context) => context.Data.LoadFromEnumerable(Images(10, 2));
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(Test(ml)));
        Assert.True(metrics.MicroAccuracy >= 0.9, $"accuracy {metrics.MicroAccuracy:F3}");

        var path = TestData.TempPath("image-model.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);
        var fresh = new MLContext();
        var loaded = MhcModelFile.Load(fresh, path, out _);
        Assert.True(TestData.MaxAbsDiff(TestData.Scores(model.Transform(Test(ml))), TestData.Scores(loaded.Transform(Test(fresh)))) <= 1e-5);
        var engine = fresh.Model.CreatePredictionEngine<ImageRow, ImagePrediction>(loaded);
        var first = Images(1, 2)[0];
        Assert.Equal(model.Transform(Test(ml)).GetColumn<string>("PredictedLabel").First(), engine.Predict(first).PredictedLabel);
    }
}
