namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// Schema shapes of the columns a classifier adds, for <c>IEstimator.GetOutputSchema</c>.
/// </summary>
/// <remarks>
/// ML.NET keeps the constructors of <see cref="SchemaShape"/> columns internal, so the shapes are taken
/// from stock estimators whose outputs have exactly the needed shape: <c>MapKeyToVector</c> of the label
/// is a known-size float vector with slot names (the Score), and a copy of the label is a key with key
/// values (the PredictedLabel).
/// </remarks>
internal static class OutputShapes
{
    /// <summary>Adds Score (float vector with slot names) and PredictedLabel (the label's key type) to <paramref name="input"/>.</summary>
    public static SchemaShape AddScoreAndPredictedLabel(MLContext ml, SchemaShape input, string labelColumn, string scoreColumn, string predictedLabelColumn)
    {
        ArgumentNullException.ThrowIfNull(ml);
        var withScore = ml.Transforms.Conversion.MapKeyToVector(scoreColumn, labelColumn).GetOutputSchema(input);
        return ml.Transforms.CopyColumns(predictedLabelColumn, labelColumn).GetOutputSchema(withScore);
    }
}
