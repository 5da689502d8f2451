using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;

namespace ImageClassificationSample;

/// <summary>Consumption side of the model (Model Builder's *.consumption.cs): input/output classes and Predict.</summary>
public static partial class ImageClassificationModel
{
    /// <summary>One 28x28 grey image (784 values, row by row) and its label.</summary>
    public sealed class ModelInput
    {
        [VectorType(28 * 28)]
        public float[] Pixels { get; set; } = new float[28 * 28];

        public string Label { get; set; } = "";
    }

    /// <summary>The prediction: class probabilities and the predicted label.</summary>
    public sealed class ModelOutput
    {
        public float[] Score { get; set; } = [];

        public string PredictedLabel { get; set; } = "";
    }

    /// <summary>Where <see cref="Predict"/> loads the model from (set before the first call).</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("ImageClassification.mlnet.zip");

    private static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, true);

    /// <summary>Predicts one image with the saved model (the engine is created on first use).</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = MhcModelFile.Load(mlContext, MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }
}
