using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>
/// NaN or infinite pixels at scoring follow ML.NET's missing-value convention: NaN scores and the missing key (0) as
/// PredictedLabel, in memory, in PredictionEngine and after a save and load; the other rows are scored as without them.
/// </summary>
[Collection(ClassifierCollection.Name)]
public sealed class MissingPixelTests(ImageClassifierFixture f)
{
    public sealed class KeyedPrediction
    {
        public float[] Score { get; set; } = [];

        [ColumnName("PredictedLabel")]
        public string PredictedLabel { get; set; } = "";
    }

    private List<BarImage> RowsWithBadPixels()
    {
        var rows = f.TestRows.Take(6).Select(r => new BarImage { Pixels = (float[])r.Pixels.Clone(), Label = r.Label }).ToList();
        rows[1].Pixels[5] = float.NaN;
        rows[3].Pixels[0] = float.PositiveInfinity;
        rows[4].Pixels[63] = float.NegativeInfinity;
        return rows;
    }

    private static readonly int[] Bad = [1, 3, 4];

    private void AssertConvention(IDataView scored, IReadOnlyList<BarImage> rows)
    {
        var scores = scored.GetColumn<float[]>("Score").ToList();
        var keys = f.Classifier.Transform(f.Ml.Transforms.Conversion.MapValueToKey("Label").Fit(f.Train).Transform(f.Ml.Data.LoadFromEnumerable(rows)))
            .GetColumn<uint>("PredictedLabel").ToList();
        var labels = scored.GetColumn<string>("PredictedLabel").ToList();
        var clean = f.Model.Transform(f.Ml.Data.LoadFromEnumerable(rows.Where((_, i) => !Bad.Contains(i)).ToList()));
        var cleanScores = clean.GetColumn<float[]>("Score").ToList();
        int c = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            if (Bad.Contains(i))
            {
                Assert.All(scores[i], s => Assert.True(float.IsNaN(s), $"row {i}: score {s}"));
                Assert.Equal(0u, keys[i]);
                Assert.Equal("", labels[i]);
            }
            else
            {
                Assert.True(TestData.MaxAbsDiff(cleanScores[c++], scores[i]) <= 1e-5, $"row {i} changed by the bad rows of its batch");
                Assert.InRange(keys[i], 1u, 3u);
                Assert.Contains(labels[i], TestData.Classes);
            }
        }
    }

    [Fact]
    public void NonFinitePixels_GiveNaNScoresAndTheMissingKey_InMemory_InPredictionEngine_AndAfterReload()
    {
        var rows = RowsWithBadPixels();
        AssertConvention(f.Model.Transform(f.Ml.Data.LoadFromEnumerable(rows)), rows);

        var engine = f.Ml.Model.CreatePredictionEngine<BarImage, BarPrediction>(f.Model);
        var nan = engine.Predict(rows[1]);
        Assert.All(nan.Score, s => Assert.True(float.IsNaN(s)));
        Assert.Equal("", nan.PredictedLabel);
        Assert.Contains(engine.Predict(rows[0]).PredictedLabel, TestData.Classes);

        var path = TestData.TempPath("nan-model.zip");
        MhcModelFile.Save(f.Ml, f.Model, f.Train.Schema, path);
        var fresh = new MLContext();
        var loaded = MhcModelFile.Load(fresh, path, out _);
        var reloaded = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));
        var scores = reloaded.GetColumn<float[]>("Score").ToList();
        var labels = reloaded.GetColumn<string>("PredictedLabel").ToList();
        foreach (int i in Bad)
        {
            Assert.All(scores[i], s => Assert.True(float.IsNaN(s)));
            Assert.Equal("", labels[i]);
        }
        Assert.Equal(f.Model.Transform(f.Ml.Data.LoadFromEnumerable(rows)).GetColumn<string>("PredictedLabel").ToList(), labels);
        var loadedEngine = fresh.Model.CreatePredictionEngine<BarImage, BarPrediction>(loaded);
        Assert.Equal("", loadedEngine.Predict(rows[3]).PredictedLabel);
    }

    [Fact]
    public void NumericLabels_MapTheMissingRowToNoClass()
    {
        // Labels 0, 1, 2 as floats: the missing row must not come back as class 0 (MapValue's default) but as NaN.
        var ml = new MLContext(seed: 1);
        var rows = TestData.Bars(20, seed: 4).Select(r => new NumericBar { Pixels = r.Pixels, Label = Array.IndexOf(TestData.Classes, r.Label) }).ToList();
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.MhcImage(TestData.TinyOptions(epochs: 1)))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(ml.Data.LoadFromEnumerable(rows));
        var bad = new NumericBar { Pixels = (float[])rows[0].Pixels.Clone(), Label = 1 };
        bad.Pixels[7] = float.NaN;
        var path = TestData.TempPath("numeric-model.zip");
        MhcModelFile.Save(ml, model, ml.Data.LoadFromEnumerable(rows).Schema, path);
        var loaded = MhcModelFile.Load(ml, path, out _);
        foreach (var m in new ITransformer[] { model, loaded })
        {
            var predicted = m.Transform(ml.Data.LoadFromEnumerable(new[] { bad, rows[0] })).GetColumn<float>("PredictedLabel").ToList();
            Assert.True(float.IsNaN(predicted[0]), $"predicted {predicted[0]} for a NaN row");
            Assert.InRange(predicted[1], 0f, 2f);
        }
    }

    public sealed class NumericBar
    {
        [VectorType(64)]
        public float[] Pixels { get; set; } = new float[64];

        public float Label { get; set; }
    }
}
