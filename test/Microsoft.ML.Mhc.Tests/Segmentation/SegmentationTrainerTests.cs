using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Segmentation;

public sealed class SegmentationTrainerTests
{
    public sealed class NoColumns
    {
    }

    [Theory]
    [InlineData(ConnectionKind.Mhc)]
    [InlineData(ConnectionKind.Residual)]
    public void Trains_Predicts_AndEvaluates(ConnectionKind connection)
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(64, 1));
        var test = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(16, 2));
        using var model = ml.Segmentation().Trainers.MhcUNet(SegmentationTestData.TinyOptions(connection)).Fit(train);
        var scored = model.Transform(test);
        var column = scored.Schema["PredictedMask"];
        Assert.Equal(new VectorDataViewType(NumberDataViewType.UInt32), column.Type);
        Assert.All(scored.GetColumn<uint[]>("PredictedMask"), m => Assert.Equal(SegmentationTestData.Pixels, m.Length));
        var metrics = ml.Segmentation().Evaluate(scored, "Mask", "PredictedMask");
        Assert.Equal(3, metrics.ClassCount);
        Assert.Equal(16, metrics.MaskCount);
        Assert.True(metrics.MeanIoU > 0.7, $"{connection}: mIoU {metrics.MeanIoU:F3}\n{metrics}");
        Assert.Equal(4, model.TrainingHistory.Epochs.Count);
        Assert.True(model.TrainingHistory.Epochs[^1].TrainMetrics.ContainsKey("miou"));
        if (connection == ConnectionKind.Mhc) Assert.NotNull(model.Diagnostics);
    }

    [Fact]
    public void SaveLoad_GivesIdenticalMasks_AndProbabilities_AndWorksWithPredictionEngine()
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(32, 3));
        var options = SegmentationTestData.TinyOptions(epochs: 2);
        options.OutputProbabilities = true;
        using var model = ml.Segmentation().Trainers.MhcUNet(options).Fit(train);
        var rows = SegmentationTestData.Squares(5, 4);
        var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var probabilities = scored.GetColumn<float[]>("Probabilities").ToList();
        Assert.All(probabilities, p => Assert.Equal(3 * SegmentationTestData.Pixels, p.Length));
        for (int px = 0; px < SegmentationTestData.Pixels; px += 37)
            Assert.Equal(1.0, probabilities[0][px] + probabilities[0][SegmentationTestData.Pixels + px] + probabilities[0][2 * SegmentationTestData.Pixels + px], 4);

        var path = SegmentationTestData.TempPath("segmentation.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);
        var fresh = new MLContext();
        var loaded = MhcModelFile.Load(fresh, path, out _);
        var reloaded = loaded.Transform(fresh.Data.LoadFromEnumerable(rows));
        Assert.Equal(SegmentationTestData.Masks(scored), SegmentationTestData.Masks(reloaded));
        var again = reloaded.GetColumn<float[]>("Probabilities").ToList();
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < again[i].Length; j++)
                Assert.True(Math.Abs(again[i][j] - probabilities[i][j]) <= 1e-5);

        var engine = fresh.Model.CreatePredictionEngine<SquareRow, SquarePrediction>(loaded);
        Assert.Equal(scored.GetColumn<uint[]>("PredictedMask").First(), engine.Predict(rows[0]).PredictedMask);

        // A mask of class ids has no missing value: an image with a NaN pixel is rejected with the column and the pixel,
        // in memory and after reload, rather than segmented as class 0.
        var bad = SegmentationTestData.Squares(1, 5)[0];
        bad.Image[3 * SegmentationTestData.Side + 7] = float.NaN;
        var e = Assert.ThrowsAny<Exception>(() => model.Transform(ml.Data.LoadFromEnumerable(new[] { bad })).GetColumn<uint[]>("PredictedMask").ToList()).GetBaseException();
        Assert.IsType<ArgumentException>(e);
        Assert.Contains("'Image'", e.Message);
        Assert.Contains("channel 0, y 3, x 7", e.Message);
        var loadedError = Assert.ThrowsAny<Exception>(() => engine.Predict(bad));
        Assert.Contains("channel 0, y 3, x 7", loadedError.GetBaseException().Message);
    }

    [Fact]
    public void OutputSchema_DeclaresThePredictedMask_AndMissingColumnsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(SegmentationTestData.Squares(1, 1));
        var trainer = ml.Segmentation().Trainers.MhcUNet(SegmentationTestData.TinyOptions());
        // SchemaShape's factory is internal in ML.NET 5; a custom mapping's output shape is a public way to get one.
        var input = ml.Transforms.CustomMapping<NoColumns, SquareRow>((_, _) => { }, null).GetOutputSchema(new SchemaShape([]));
        var shape = trainer.GetOutputSchema(input);
        var mask = shape.Single(c => c.Name == "PredictedMask");
        Assert.Equal(NumberDataViewType.UInt32, mask.ItemType);
        // The shape of the stock value map that writes the ids (ML.NET declares it a vector; rows hold H x W ids).
        Assert.NotEqual(SchemaShape.Column.VectorKind.Scalar, mask.Kind);

        var options = SegmentationTestData.TinyOptions();
        options.LabelColumnName = "Truth";
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Segmentation().Trainers.MhcUNet(options).Fit(data));
        Assert.Contains("'Truth'", e.Message);
        Assert.Contains("'Mask'", e.Message);
    }

    [Fact]
    public void ShortOverload_UsesItsArguments()
    {
        var ml = new MLContext(seed: 1);
        var trainer = ml.Segmentation().Trainers.MhcUNet("Mask", "Image", imageHeight: 32, imageWidth: 16, numberOfClasses: 5, maxEpochs: 3,
            connection: ConnectionKind.Hc);
        var o = trainer.TrainerOptions;
        Assert.Equal(("Mask", "Image", 32, 16, 5, 3, ConnectionKind.Hc), (o.LabelColumnName, o.FeatureColumnName, o.ImageHeight, o.ImageWidth, o.NumberOfClasses, o.MaxEpochs, o.Connection));
    }

    [Fact]
    public void ClassWeights_AreNormalisedToPixelMeanOne_AndAbsentClassesStayFinite()
    {
        var w = SegmentationLoss.Weights(SegmentationClassWeighting.InverseFrequency, null, [90, 10, 0])!;
        // Raw 1/f: 1/0.9, 1/0.1, absent -> rarest present (1/0.1); pixel mean 0.9/0.9 + 0.1/0.1 = 2 -> halve.
        Assert.Equal(1 / 0.9 / 2, w[0], 5);
        Assert.Equal(5, w[1], 5);
        Assert.Equal(5, w[2], 5);
        Assert.Null(SegmentationLoss.Weights(SegmentationClassWeighting.None, null, [1, 1]));
        Assert.Equal(new float[] { 2, 3 }, SegmentationLoss.Weights(SegmentationClassWeighting.InverseFrequency, [2, 3], [1, 1]));
    }

    [Fact]
    public void DiceTerm_IsNearZeroForAConfidentPerfectPrediction()
    {
        global::Mhc.Models.MhcEnvironment.EnsureTorch();
        using var target = TorchSharp.torch.tensor(new long[] { 0, 1, 2, 1 }).reshape(1, 2, 2);
        using var logits = TorchSharp.torch.nn.functional.one_hot(target, 3).permute(0, 3, 1, 2).to_type(TorchSharp.torch.ScalarType.Float32) * 30;
        using var plain = new SegmentationLoss(3, null, 0, TorchSharp.torch.CPU);
        using var withDice = new SegmentationLoss(3, null, 1, TorchSharp.torch.CPU);
        Assert.True(withDice.Compute(logits, target).item<float>() - plain.Compute(logits, target).item<float>() < 1e-4);
        using var wrong = TorchSharp.torch.zeros(1, 3, 2, 2);
        Assert.True(withDice.Compute(wrong, target).item<float>() - plain.Compute(wrong, target).item<float>() > 0.3);
    }
}
