namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// The tensor names of an exported mHC image classifier, which are also the column names
/// <c>ml.Transforms.ApplyOnnxModel</c> reads and writes.
/// </summary>
/// <remarks>
/// <c>ml.Transforms.ApplyOnnxModel(outputColumnNames: [Probabilities], inputColumnNames: [Features], modelFile: path)</c>
/// scores a float vector column named <c>features</c> (copy yours with <c>ml.Transforms.CopyColumns("features", "Pixels")</c>).
/// </remarks>
public static class MhcOnnxNames
{
    /// <summary>Input: raw pixel values, float32 (batch, C x H x W) in C, H, W order, as the trainer reads its feature vector.</summary>
    public const string Features = "features";

    /// <summary>Output: class logits, float32 (batch, classes).</summary>
    public const string Logits = "logits";

    /// <summary>Output: softmax class probabilities, float32 (batch, classes): the transformer's <c>Score</c>.</summary>
    public const string Probabilities = "probabilities";
}
