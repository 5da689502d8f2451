using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;

namespace Mhc.Samples.TextGeneration;

/// <summary>Consuming the trained model (Model Builder's "consumption" file): input, output, a lazily created prediction engine.</summary>
public static partial class AustenModel
{
    /// <summary>Model input: the text to continue.</summary>
    public sealed class ModelInput
    {
        /// <summary>The prompt.</summary>
        [ColumnName("Prompt")]
        public string Prompt { get; set; } = "";
    }

    /// <summary>Model output: the continuation.</summary>
    public sealed class ModelOutput
    {
        /// <summary>The prompt, passed through.</summary>
        [ColumnName("Prompt")]
        public string Prompt { get; set; } = "";

        /// <summary>The generated continuation (the prompt is not repeated).</summary>
        [ColumnName("GeneratedText")]
        public string GeneratedText { get; set; } = "";
    }

    /// <summary>Where <see cref="Predict"/> loads the model from (the training run sets it to its output).</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("AustenModel.mlnet");

    private static readonly object Gate = new();
    private static Lazy<PredictionEngine<ModelInput, ModelOutput>> predictEngine = new(CreatePredictEngine, true);

    /// <summary>Continues <paramref name="input"/>'s prompt with the saved model. The engine is created on first use.</summary>
    public static ModelOutput Predict(ModelInput input)
    {
        lock (Gate) return predictEngine.Value.Predict(input);
    }

    /// <summary>Forgets the engine so that the next <see cref="Predict"/> loads <see cref="MLNetModelPath"/> again.</summary>
    public static void ResetPredictionEngine() => predictEngine = new(CreatePredictEngine, true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer model = MhcModelFile.Load(mlContext, MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }
}
