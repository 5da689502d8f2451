namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// The tensor names of an exported mHC image classifier or segmentation model, which are also the column names
/// <c>ml.Transforms.ApplyOnnxModel</c> reads and writes. A text-generation model has the names of
/// <see cref="global::Mhc.Models.Onnx.DecoderOnnxExport"/>.
/// </summary>
/// <remarks>
/// <c>ml.Transforms.ApplyOnnxModel(outputColumnNames: [Probabilities], inputColumnNames: [Features], modelFile: path)</c>
/// scores a float vector column named <c>features</c> (copy yours with <c>ml.Transforms.CopyColumns("features", "Pixels")</c>).
/// </remarks>
public static class MhcOnnxNames
{
    /// <summary>Input: raw pixel values, float32 (batch, C x H x W) in C, H, W order, as the trainer reads its feature vector.</summary>
    public const string Features = "features";

    /// <summary>Output: class logits, float32 (batch, classes), or per pixel (batch, classes, H, W) for segmentation.</summary>
    public const string Logits = "logits";

    /// <summary>
    /// Output: softmax class probabilities, float32 (batch, classes): the classifier's <c>Score</c>; per pixel
    /// (batch, classes, H, W) for segmentation, the segmenter's <c>Probabilities</c>.
    /// </summary>
    public const string Probabilities = "probabilities";

    /// <summary>Output of segmentation: the class id of every pixel, int64 (batch, H, W): the segmenter's <c>PredictedMask</c>.</summary>
    public const string Mask = "mask";

    /// <summary>
    /// Metadata of an exported text-generation model: the text of every token id, a JSON array of strings (one
    /// character each for a character vocabulary), with which a client encodes prompts and decodes output.
    /// </summary>
    public const string TokensMetadata = "mhc.tokens";

    /// <summary>Metadata: the ids that separate documents in training (a JSON array; a prompt starts after them).</summary>
    public const string DocumentSeparatorMetadata = "mhc.document_separator";

    /// <summary>Metadata: the vocabulary as the library saves it (JSON), for <c>TextVocabulary.FromJson</c>.</summary>
    public const string VocabularyMetadata = "mhc.vocabulary";
}
