namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>Default column names of the segmentation trainer.</summary>
public static class SegmentationColumnNames
{
    /// <summary>"PredictedMask": per-pixel class ids.</summary>
    public const string PredictedMask = "PredictedMask";

    /// <summary>"Probabilities": per-pixel class probabilities.</summary>
    public const string Probabilities = "Probabilities";
}
