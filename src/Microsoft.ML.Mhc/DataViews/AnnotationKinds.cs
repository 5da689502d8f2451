namespace Microsoft.ML.Mhc.DataViews;

/// <summary>Names of the standard ML.NET column annotations used here.</summary>
internal static class AnnotationKinds
{
    /// <summary>Values a key column stands for.</summary>
    public const string KeyValues = "KeyValues";

    /// <summary>Names of the slots of a vector column.</summary>
    public const string SlotNames = "SlotNames";
}
