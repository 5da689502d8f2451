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

    /// <summary>
    /// Segmentation mean intersection over union (mean IoU over the classes present in the truth or the
    /// predictions, from <c>mlContext.Segmentation().Evaluate</c>); maximised. Use it to sweep
    /// <see cref="Segmentation.MhcSegmentationTrainer.Options"/>.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="labelColumnName">True masks: a vector of class ids or a grey MLImage. Default "Label".</param>
    /// <param name="predictedMaskColumnName">Predicted masks written by the model. Default "PredictedMask".</param>
    /// <param name="numberOfClasses">Classes K; 0 takes the largest id found plus one. Default 0.</param>
    public static SweepMetric MeanIoU(MLContext mlContext, string labelColumnName = DataViews.MhcColumnNames.Label,
        string predictedMaskColumnName = Segmentation.SegmentationColumnNames.PredictedMask, int numberOfClasses = 0)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("MeanIoU", (model, data) => mlContext.Segmentation().Evaluate(
            model.Transform(data), labelColumnName, predictedMaskColumnName, numberOfClasses).MeanIoU, true);
    }

    /// <summary>
    /// Text-generation held-out perplexity per token, exp(validation loss in nats per token), each row of
    /// <paramref name="textColumnName"/> scored as one document (<c>mlContext.TextGeneration().Evaluate</c>);
    /// minimised. Compare it only between models with the same vocabulary; across tokenizers use
    /// <see cref="BitsPerCharacter"/>. Use it to sweep <see cref="TextGeneration.MhcDecoderTrainer.Options"/>.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="textColumnName">The held-out text column. Default "Text".</param>
    public static SweepMetric Perplexity(MLContext mlContext, string textColumnName = TextGeneration.DefaultColumnNames.Text)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("Perplexity", (model, data) => mlContext.TextGeneration().Evaluate(model, data, textColumnName).Perplexity, false);
    }

    /// <summary>
    /// Text-generation held-out bits per character (the validation loss per character of text, in bits); minimised.
    /// Comparable between character and sub-word vocabularies.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="textColumnName">The held-out text column. Default "Text".</param>
    public static SweepMetric BitsPerCharacter(MLContext mlContext, string textColumnName = TextGeneration.DefaultColumnNames.Text)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric("BitsPerCharacter", (model, data) => mlContext.TextGeneration().Evaluate(model, data, textColumnName).BitsPerCharacter, false);
    }

    private static SweepMetric Multiclass(MLContext mlContext, string name, Func<global::Microsoft.ML.Data.MulticlassClassificationMetrics, double> pick, bool maximize,
        string label, string score, string predicted)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new SweepMetric(name, (model, data) => pick(mlContext.MulticlassClassification.Evaluate(model.Transform(data), label, score, predicted)), maximize);
    }
}
