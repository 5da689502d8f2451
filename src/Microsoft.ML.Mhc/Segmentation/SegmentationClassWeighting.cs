namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>How the cross-entropy weighs the classes (foreground is often under 10 % of the pixels).</summary>
public enum SegmentationClassWeighting
{
    /// <summary>Every pixel counts the same.</summary>
    None,
    /// <summary>w_c proportional to 1 / f_c, f_c the class's share of training pixels.</summary>
    InverseFrequency,
    /// <summary>w_c proportional to 1 / sqrt(f_c): a milder re-balancing.</summary>
    InverseSquareRootFrequency,
}
