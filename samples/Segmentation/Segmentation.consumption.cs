using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;

namespace SegmentationSample;

/// <summary>Consumption side of the model (Model Builder's *.consumption.cs): input/output classes and prediction.</summary>
public static partial class SegmentationModel
{
    /// <summary>Class names: background, then the digits 0..9 (mask ids 0..10).</summary>
    public static readonly string[] ClassNames = ["background", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>One canvas: 64x64 grey pixels (0..1) and, for training and evaluation, its mask of class ids.</summary>
    public sealed class ModelInput
    {
        /// <summary>Canvas side.</summary>
        public const int Side = 64;

        /// <summary>Row-major pixels, 0..1.</summary>
        [VectorType(Side * Side)]
        public float[] Image { get; set; } = new float[Side * Side];

        /// <summary>Row-major class ids (0 background, 1..10 digits 0..9).</summary>
        [VectorType(Side * Side)]
        public uint[] Mask { get; set; } = new uint[Side * Side];
    }

    /// <summary>What the model predicts for one canvas.</summary>
    public sealed class ModelOutput
    {
        /// <summary>Row-major predicted class ids.</summary>
        public uint[] PredictedMask { get; set; } = [];
    }

    /// <summary>Loads a saved model (in any process) and returns a prediction engine for single canvases.</summary>
    public static PredictionEngine<ModelInput, ModelOutput> LoadPredictionEngine(MLContext mlContext, string modelPath)
    {
        var model = MhcModelFile.Load(mlContext, modelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Predicts the mask of one canvas with a saved model.</summary>
    public static uint[] Predict(PredictionEngine<ModelInput, ModelOutput> engine, float[] image) =>
        engine.Predict(new ModelInput { Image = image }).PredictedMask;
}
