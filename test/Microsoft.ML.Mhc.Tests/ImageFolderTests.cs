using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Plots;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>
/// What an app that references this library does with images on disk: ML.NET's own LoadImages / ResizeImages /
/// ExtractPixels, and MhcImage on the MLImage column, in the same process as our plots (which must not move
/// ImageAnalytics' SkiaSharp).
/// </summary>
public sealed class ImageFolderTests
{
    public sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }

    public sealed class ImageFilePrediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedLabel { get; set; } = "";
    }

    private const int FileSide = 16;

    /// <summary>Writes the bars as 16x16 grey PNGs (each pixel doubled) to root/split/label/NNNN.png, and lists them.</summary>
    private static List<ImageFile> WritePngFolders(string root, string split, int perClass, int seed)
    {
        var files = new List<ImageFile>();
        int i = 0;
        foreach (var bar in TestData.Bars(perClass, seed))
        {
            var bgra = new byte[FileSide * FileSide * 4];
            for (int y = 0; y < FileSide; y++)
                for (int x = 0; x < FileSide; x++)
                {
                    byte v = (byte)Math.Clamp(bar.Pixels[y / 2 * TestData.Size + x / 2], 0, 255);
                    int at = 4 * (y * FileSide + x);
                    (bgra[at], bgra[at + 1], bgra[at + 2], bgra[at + 3]) = (v, v, v, 255);
                }
            var relative = Path.Combine(split, bar.Label, $"{i++:D4}.png");
            Directory.CreateDirectory(Path.Combine(root, split, bar.Label));
            using var image = MLImage.CreateFromPixels(FileSide, FileSide, MLPixelFormat.Bgra32, bgra);
            image.Save(Path.Combine(root, relative));
            files.Add(new ImageFile { ImagePath = relative, Label = bar.Label });
        }
        return files;
    }

    [Fact]
    public void MLNetLoadImagesAndExtractPixelsWorkNextToOurPlots()
    {
        // Draw a chart first, so the plotting stack's SkiaSharp is the one loaded when ML.NET reads the images.
        var root = Path.GetDirectoryName(TestData.TempPath("x"))!;
        MhcPlots.SaveTrainingCurves([new TrainingCurvePoint(1, 1.0), new TrainingCurvePoint(2, 0.5)], Path.Combine(root, "curve.png"));
        Assert.Equal(2, typeof(SkiaSharp.SKBitmap).Assembly.GetName().Version!.Major);
        Assert.Null(ImagePixelAccess.Failure);

        var ml = new MLContext(seed: 1);
        var files = WritePngFolders(root, "all", perClass: 2, seed: 3);
        var data = ml.Data.LoadFromEnumerable(files);
        var pixels = ml.Transforms.LoadImages("Image", root, nameof(ImageFile.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", FileSide, FileSide))
            .Append(ml.Transforms.ConvertToGrayscale("Grey", "Image"))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Grey", Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red))
            .Fit(data).Transform(data).GetColumn<float[]>("Pixels").ToList();

        var expected = TestData.Bars(2, 3);
        Assert.Equal(expected.Count, pixels.Count);
        for (int row = 0; row < expected.Count; row++)
        {
            Assert.Equal(FileSide * FileSide, pixels[row].Length);
            for (int y = 0; y < FileSide; y++)
                for (int x = 0; x < FileSide; x++)
                    Assert.Equal(Math.Clamp(MathF.Floor(expected[row].Pixels[y / 2 * TestData.Size + x / 2]), 0, 255), pixels[row][y * FileSide + x]);
        }
    }

    [Fact]
    public void MhcImageTrainsOnPngFolders_ThroughLoadImagesAndResizeImages_AndReloads()
    {
        var root = Path.GetDirectoryName(TestData.TempPath("x"))!;
        var trainFiles = WritePngFolders(root, "train", perClass: 30, seed: 1);
        var testFiles = WritePngFolders(root, "test", perClass: 10, seed: 2);
        var ml = new MLContext(seed: 1);
        var options = TestData.TinyOptions();
        options.FeatureColumnName = "Image";
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", root, nameof(ImageFile.ImagePath)))
            .Append(ml.Transforms.ResizeImages("Image", TestData.Size, TestData.Size))
            .Append(ml.MulticlassClassification.Trainers.MhcImage(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

        var train = ml.Data.LoadFromEnumerable(trainFiles);
        var model = pipeline.Fit(train);
        var test = ml.Data.LoadFromEnumerable(testFiles);
        var scored = model.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.True(metrics.MicroAccuracy >= 0.9, $"accuracy {metrics.MicroAccuracy:F3}");

        var path = TestData.TempPath("png-model.zip");
        MhcModelFile.Save(ml, model, train.Schema, path);
        var fresh = new MLContext();
        var loaded = MhcModelFile.Load(fresh, path, out _);
        Assert.True(TestData.MaxAbsDiff(TestData.Scores(scored), TestData.Scores(loaded.Transform(fresh.Data.LoadFromEnumerable(testFiles)))) <= 1e-5);
        var engine = fresh.Model.CreatePredictionEngine<ImageFile, ImageFilePrediction>(loaded);
        var predicted = testFiles.Select(f => engine.Predict(new ImageFile { ImagePath = f.ImagePath }).PredictedLabel).ToList();
        Assert.Equal(scored.GetColumn<string>("PredictedLabel").ToList(), predicted);
    }
}
