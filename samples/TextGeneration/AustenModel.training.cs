using Microsoft.ML;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.TextGeneration;
using Microsoft.ML.Mhc.Training;

namespace Mhc.Samples.TextGeneration;

/// <summary>Training the model (Model Builder's "training" file): the pipeline, training and saving.</summary>
public static partial class AustenModel
{
    /// <summary>A row of text for ML.NET.</summary>
    public sealed class TextRow
    {
        /// <summary>The text.</summary>
        public string Text { get; set; } = "";
    }

    /// <summary>The trainer options for <paramref name="config"/>.</summary>
    public static MhcDecoderTrainer.Options TrainerOptions(TrainerConfig config, GenerationConfig generation, int stepsPerEpoch,
        IDataView? validation, Action<string>? log, CancellationToken cancellationToken = default) => new()
    {
        TextColumnName = config.TextColumnName,
        ContextLength = config.ContextLength,
        Dim = config.Dim,
        Layers = config.Layers,
        Heads = config.Heads,
        MlpRatio = config.MlpRatio,
        ExpansionRate = config.ExpansionRate,
        Connection = config.Connection,
        DynamicMixing = config.DynamicMixing,
        Dropout = config.Dropout,
        BatchSize = config.BatchSize,
        LearningRate = config.LearningRate,
        WeightDecay = config.WeightDecay,
        WarmupFraction = config.WarmupFraction,
        FinalLearningRateFraction = config.FinalLearningRateFraction,
        MaxEpochs = config.MaxEpochs,
        StepsPerEpoch = stepsPerEpoch,
        ValidationWindows = config.ValidationWindows,
        ValidationSet = validation,
        Seed = config.Seed,
        NumberOfThreads = config.NumberOfThreads,
        Log = log,
        CancellationToken = cancellationToken,
        Generation = new TextGenerationOptions
        {
            MaxNewTokens = generation.MaxNewTokens,
            Temperature = generation.Temperature,
            TopP = generation.TopP,
            Seed = generation.Seed,
        },
    };

    /// <summary>The training pipeline: the mHC decoder on the text column.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, MhcDecoderTrainer.Options options) =>
        mlContext.TextGeneration().Trainers.MhcDecoder(options);

    /// <summary>Trains the pipeline on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, MhcDecoderTrainer.Options options) =>
        BuildPipeline(mlContext, options).Fit(trainData);

    /// <summary>Saves <paramref name="model"/> (atomically: a temporary file, then a rename).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string path) =>
        MhcModelFile.Save(mlContext, model, inputSchema, path);

    /// <summary>
    /// Seconds per optimisation step of <paramref name="options"/> on <paramref name="trainData"/>: a first
    /// epoch of a few steps warms the allocator and caches up, the second is timed.
    /// </summary>
    public static double MeasureSecondsPerStep(MLContext mlContext, IDataView trainData, MhcDecoderTrainer.Options options, int steps)
    {
        var probe = TrainerOptions(new TrainerConfig
        {
            ContextLength = options.ContextLength, Dim = options.Dim, Layers = options.Layers, Heads = options.Heads, MlpRatio = options.MlpRatio,
            ExpansionRate = options.ExpansionRate, Connection = options.Connection, DynamicMixing = options.DynamicMixing, Dropout = options.Dropout,
            BatchSize = options.BatchSize, MaxEpochs = 2, Seed = options.Seed ?? 1, NumberOfThreads = options.NumberOfThreads,
            TextColumnName = options.TextColumnName,
        }, new GenerationConfig(), steps, validation: null, log: null);
        probe.CollectDiagnostics = false;
        var reports = new List<MhcEpochReport>();
        probe.EpochCallback = reports.Add;
        mlContext.TextGeneration().Trainers.MhcDecoder(probe).Fit(trainData);
        return reports[^1].TrainSeconds / steps;
    }
}
