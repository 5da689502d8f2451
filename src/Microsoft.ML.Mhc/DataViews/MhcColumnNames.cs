namespace Microsoft.ML.Mhc.DataViews;

/// <summary>ML.NET's conventional column names, used as defaults by every mHC trainer.</summary>
public static class MhcColumnNames
{
    /// <summary>"Label".</summary>
    public const string Label = "Label";

    /// <summary>"Features".</summary>
    public const string Features = "Features";

    /// <summary>"Score".</summary>
    public const string Score = "Score";

    /// <summary>"PredictedLabel".</summary>
    public const string PredictedLabel = "PredictedLabel";
}
