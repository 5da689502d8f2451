using Microsoft.ML;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;

namespace ImageClassificationSample;

/// <summary>Training side of the model (Model Builder's *.training.cs): pipeline, training, saving.</summary>
public static partial class ImageClassificationModel
{
    /// <summary>The pipeline: label text to key, the mHC image trainer, predicted key back to text.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, RunConfig config, IDataView? validation = null,
        Action<MhcTrainingProgress>? progress = null, Action<string>? log = null, Action<MhcEpochReport>? epochs = null)
    {
        var options = new MhcImageClassificationTrainer.Options
        {
            LabelColumnName = "Label",
            FeatureColumnName = "Pixels",
            ImageHeight = 28,
            ImageWidth = 28,
            Channels = 1,
            Architecture = config.Architecture,
            Connection = config.Connection,
            ExpansionRate = config.ExpansionRate,
            Dropout = config.Dropout,
            MaxEpochs = config.MaxEpochs,
            BatchSize = config.BatchSize,
            LearningRate = config.LearningRate,
            WeightDecay = config.WeightDecay,
            WarmupFraction = config.WarmupFraction,
            FinalLearningRateFraction = config.FinalLearningRateFraction,
            GradientClipNorm = config.GradientClipNorm,
            LabelSmoothing = config.LabelSmoothing,
            AugmentShiftPixels = config.AugmentShiftPixels,
            AugmentHorizontalFlip = config.AugmentHorizontalFlip,
            AugmentRotationDegrees = config.AugmentRotationDegrees,
            AugmentScale = config.AugmentScale,
            Seed = config.Seed,
            NumberOfThreads = config.Threads,
            ValidationSet = validation,
            TrainingTimeBudget = config.BudgetMinutes is { } m ? TimeSpan.FromMinutes(m) : null,
            ProgressCallback = progress,
            Log = log,
            EpochCallback = epochs,
        };
        if (config.Architecture == MhcImageArchitecture.VisionTransformer)
        {
            options.PatchSize = config.PatchSize;
            options.TransformerDim = config.TransformerDim;
            options.TransformerLayers = config.TransformerLayers;
            options.TransformerHeads = config.TransformerHeads;
        }
        else
        {
            options.StageDepths = config.StageDepths;
            options.BaseWidth = config.BaseWidth;
        }
        return mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.MulticlassClassification.Trainers.MhcImage(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    }

    /// <summary>
    /// Fits the pipeline. The validation set (shown per epoch) must have its label mapped to the same keys,
    /// so the label mapping is fitted on the training data first and applied to it.
    /// </summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainData, RunConfig config, IDataView? validationData = null,
        Action<MhcTrainingProgress>? progress = null, Action<string>? log = null, Action<MhcEpochReport>? epochs = null)
    {
        IDataView? validation = null;
        if (validationData is not null)
            validation = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(trainData).Transform(validationData);
        return BuildPipeline(mlContext, config, validation, progress, log, epochs).Fit(trainData);
    }

    /// <summary>Saves the model atomically (a stock ML.NET zip; loading it needs this library only for scoring).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string modelPath) =>
        MhcModelFile.Save(mlContext, model, inputSchema, modelPath);
}
