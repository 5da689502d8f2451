using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>An 8x8 grey image with a text label, as a user's input class.</summary>
public sealed class BarImage
{
    [VectorType(64)]
    public float[] Pixels { get; set; } = new float[64];

    public string Label { get; set; } = "";
}

/// <summary>What PredictionEngine returns after MapKeyToValue.</summary>
public sealed class BarPrediction
{
    public float[] Score { get; set; } = [];

    public string PredictedLabel { get; set; } = "";
}

/// <summary>Tiny synthetic images: a bright bar that is horizontal, vertical or diagonal, at a random place, with noise.</summary>
internal static class TestData
{
    public const int Size = 8;
    public static readonly string[] Classes = ["horizontal", "vertical", "diagonal"];

    public static List<BarImage> Bars(int perClass, int seed, int classes = 3)
    {
        var random = new Random(seed);
        var rows = new List<BarImage>();
        for (int i = 0; i < perClass; i++)
            for (int c = 0; c < classes; c++)
            {
                var p = new float[Size * Size];
                for (int k = 0; k < p.Length; k++) p[k] = (float)(random.NextDouble() * 40);
                int at = random.Next(1, Size - 1);
                for (int t = 0; t < Size; t++)
                {
                    int y = c == 0 ? at : t, x = c == 0 ? t : c == 1 ? at : t;
                    p[y * Size + x] = 200 + (float)(random.NextDouble() * 55);
                }
                rows.Add(new BarImage { Pixels = p, Label = Classes[c] });
            }
        return rows;
    }

    public static MhcImageClassificationTrainer.Options TinyOptions(int epochs = 6) => new()
    {
        LabelColumnName = "Label",
        FeatureColumnName = "Pixels",
        ImageHeight = Size,
        ImageWidth = Size,
        Channels = 1,
        StageDepths = [1, 1],
        // A multiple of 16: oneDNN on some CPUs returns wrong input gradients for other channel counts (see Mhc.Models.Native.ConvolutionBackendCheck).
        BaseWidth = 16,
        ExpansionRate = 2,
        MaxEpochs = epochs,
        BatchSize = 16,
        LearningRate = 5e-3,
        WarmupFraction = 0.1,
        AugmentShiftPixels = 1,
        Seed = 1,
        NumberOfThreads = 1,
    };

    /// <summary>MapValueToKey("Label") + MhcImage + MapKeyToValue("PredictedLabel"), as a user writes it.</summary>
    public static IEstimator<ITransformer> Pipeline(MLContext ml, MhcImageClassificationTrainer.Options options) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.MhcImage(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    public static float[] Scores(IDataView scored, string column = "Score") =>
        scored.GetColumn<float[]>(column).SelectMany(s => s).ToArray();

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    public static string TempPath(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "mhc-mlnet-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
