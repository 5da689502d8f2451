using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Microsoft.ML;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.Training;

namespace SegmentationSample;

/// <summary>Training side of the model (Model Builder's *.training.cs): pipeline, training, saving.</summary>
public static partial class SegmentationModel
{
    /// <summary>The pipeline: the segmentation trainer on the canvas pixels and masks.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, RunConfig config, ConnectionKind connection,
        Action<string>? log = null, Action<MhcEpochReport>? epochs = null, Action<MhcTrainingProgress>? progress = null)
    {
        var options = new MhcSegmentationTrainer.Options
        {
            FeatureColumnName = nameof(ModelInput.Image),
            LabelColumnName = nameof(ModelInput.Mask),
            ImageHeight = ModelInput.Side,
            ImageWidth = ModelInput.Side,
            Channels = 1,
            NumberOfClasses = ClassNames.Length,
            ClassNames = ClassNames,
            Connection = connection,
            Depth = config.Depth,
            BaseWidth = config.BaseWidth,
            BlocksPerStage = config.BlocksPerStage,
            ExpansionRate = config.ExpansionRate,
            MaxHistory = config.MaxHistory,
            SkipConstraint = config.SkipConstraint,
            MaxEpochs = config.MaxEpochs,
            BatchSize = config.BatchSize,
            LearningRate = config.LearningRate,
            WeightDecay = config.WeightDecay,
            ClassWeighting = config.ClassWeighting,
            DiceLossWeight = config.DiceLossWeight,
            Seed = config.Seed,
            NumberOfThreads = config.Threads,
            CollectDiagnostics = connection != ConnectionKind.Residual,
            TrainingTimeBudget = config.BudgetMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
            Log = log,
            EpochCallback = epochs,
            ProgressCallback = progress,
        };
        return mlContext.Segmentation().Trainers.MhcUNet(options);
    }

    /// <summary>Fits the pipeline.</summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainData, RunConfig config, ConnectionKind connection,
        Action<string>? log = null, Action<MhcEpochReport>? epochs = null, Action<MhcTrainingProgress>? progress = null) =>
        BuildPipeline(mlContext, config, connection, log, epochs, progress).Fit(trainData);

    /// <summary>Saves the model atomically (a stock ML.NET zip; loading it needs this library only for scoring).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string modelPath) =>
        MhcModelFile.Save(mlContext, model, inputSchema, modelPath);
}
