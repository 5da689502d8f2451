using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML.Mhc.Tests.Segmentation;

/// <summary>A 16x16 grey image and its mask as a user's input class.</summary>
public sealed class SquareRow
{
    [VectorType(SegmentationTestData.Pixels)]
    public float[] Image { get; set; } = new float[SegmentationTestData.Pixels];

    [VectorType(SegmentationTestData.Pixels)]
    public uint[] Mask { get; set; } = new uint[SegmentationTestData.Pixels];
}

/// <summary>What a PredictionEngine returns.</summary>
public sealed class SquarePrediction
{
    public uint[] PredictedMask { get; set; } = [];
}

/// <summary>
/// Tiny synthetic segmentation: 16x16 noisy images with a bright square (class 1) and a dark square (class 2)
/// on background (class 0), at random places.
/// </summary>
internal static class SegmentationTestData
{
    public const int Side = 16;
    public const int Pixels = Side * Side;

    public static List<SquareRow> Squares(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<SquareRow>();
        for (int n = 0; n < count; n++)
        {
            var row = new SquareRow();
            for (int i = 0; i < Pixels; i++) row.Image[i] = 0.4f + (float)(random.NextDouble() * 0.2);
            Paint(row, random, 1, 0.9f);
            Paint(row, random, 2, 0.05f);
            rows.Add(row);
        }
        return rows;
    }

    private static void Paint(SquareRow row, Random random, uint cls, float value)
    {
        int size = random.Next(3, 6), y0 = random.Next(0, Side - size), x0 = random.Next(0, Side - size);
        for (int y = y0; y < y0 + size; y++)
            for (int x = x0; x < x0 + size; x++)
            {
                row.Image[y * Side + x] = value + (float)(random.NextDouble() * 0.05);
                row.Mask[y * Side + x] = cls;
            }
    }

    public static MhcSegmentationTrainer.Options TinyOptions(ConnectionKind connection = ConnectionKind.Mhc, int epochs = 4) => new()
    {
        FeatureColumnName = "Image",
        LabelColumnName = "Mask",
        ImageHeight = Side,
        ImageWidth = Side,
        Depth = 2,
        BaseWidth = 16,
        ExpansionRate = 2,
        MaxHistory = 2,
        Connection = connection,
        MaxEpochs = epochs,
        BatchSize = 8,
        LearningRate = 1e-2,
        WarmupFraction = 0.1,
        Seed = 1,
        NumberOfThreads = 1,
    };

    public static uint[] Masks(IDataView scored, string column = "PredictedMask") =>
        scored.GetColumn<uint[]>(column).SelectMany(m => m).ToArray();

    public static string TempPath(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "mhc-seg-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
