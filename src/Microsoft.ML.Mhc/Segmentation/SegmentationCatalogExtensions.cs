using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML;

/// <summary>Adds <c>mlContext.Segmentation()</c>.</summary>
public static class SegmentationCatalogExtensions
{
    /// <summary>The semantic segmentation catalog: <c>mlContext.Segmentation().Trainers.MhcUNet(...)</c> and <c>Evaluate</c>.</summary>
    public static SegmentationCatalog Segmentation(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SegmentationCatalog(mlContext);
    }
}
