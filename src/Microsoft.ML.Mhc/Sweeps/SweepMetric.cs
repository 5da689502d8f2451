namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// The figure a sweep optimises: a function of a fitted model and held-out data, and whether larger is better.
/// </summary>
public sealed class SweepMetric
{
    /// <summary>Creates a metric from any evaluation function.</summary>
    /// <param name="name">Name written to the run history (Model Builder's <c>MetricName</c>).</param>
    /// <param name="evaluate">Scores a fitted model on held-out data.</param>
    /// <param name="maximize">True when larger values are better.</param>
    public SweepMetric(string name, Func<ITransformer, IDataView, double> evaluate, bool maximize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Evaluate = evaluate ?? throw new ArgumentNullException(nameof(evaluate));
        Maximize = maximize;
    }

    /// <summary>Name of the metric.</summary>
    public string Name { get; }

    /// <summary>Scores a fitted model on held-out data.</summary>
    public Func<ITransformer, IDataView, double> Evaluate { get; }

    /// <summary>True when larger values are better.</summary>
    public bool Maximize { get; }

    /// <summary>True when <paramref name="a"/> is strictly better than <paramref name="b"/> (NaN is never better).</summary>
    public bool IsBetter(double a, double b) =>
        !double.IsNaN(a) && (double.IsNaN(b) || (Maximize ? a > b : a < b));

    /// <summary>Multiclass micro-accuracy (fraction of rows classified correctly); maximised.</summary>
    public static SweepMetric MicroAccuracy(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel") =>
        Multiclass(mlContext, "MicroAccuracy", m => m.MicroAccuracy, true, labelColumnName, scoreColumnName, predictedLabelColumnName);

    /// <summary>Multiclass macro-accuracy (mean per-class accuracy); maximised.</summary>
    public static SweepMetric MacroAccuracy(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel") =>
        Multiclass(mlContext, "MacroAccuracy", m => m.MacroAccuracy, true, labelColumnName, scoreColumnName, predictedLabelColumnName);

    /// <summary>Multiclass log-loss; minimised.</summary>
    public static SweepMetric LogLoss(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel") =>
        Multiclass(mlContext, "LogLoss", m => m.LogLoss, false, labelColumnName, scoreColumnName, predictedLabelColumnName);

    /// <summary>Binary accuracy (from the non-calibrated evaluator, so it works for any binary trainer); maximised.</summary>
    public static SweepMetric BinaryAccuracy(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("Accuracy", (model, data) => mlContext.BinaryClassification.EvaluateNonCalibrated(
            model.Transform(data), labelColumnName, scoreColumnName, predictedLabelColumnName).Accuracy, true);
    }

    /// <summary>Binary area under the ROC curve; maximised.</summary>
    public static SweepMetric AreaUnderRocCurve(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("AreaUnderRocCurve", (model, data) => mlContext.BinaryClassification.EvaluateNonCalibrated(
            model.Transform(data), labelColumnName, scoreColumnName, predictedLabelColumnName).AreaUnderRocCurve, true);
    }

    /// <summary>Regression R²; maximised.</summary>
    public static SweepMetric RSquared(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("RSquared", (model, data) => mlContext.Regression.Evaluate(model.Transform(data), labelColumnName, scoreColumnName).RSquared, true);
    }

    /// <summary>Regression root-mean-squared error; minimised.</summary>
    public static SweepMetric RootMeanSquaredError(MLContext mlContext, string labelColumnName = "Label", string scoreColumnName = "Score")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("RootMeanSquaredError", (model, data) => mlContext.Regression.Evaluate(model.Transform(data), labelColumnName, scoreColumnName).RootMeanSquaredError, false);
    }

    private static SweepMetric Multiclass(MLContext mlContext, string name, Func<Data.MulticlassClassificationMetrics, double> pick, bool maximize,
        string label, string score, string predicted)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric(name, (model, data) => pick(mlContext.MulticlassClassification.Evaluate(model.Transform(data), label, score, predicted)), maximize);
    }
}
