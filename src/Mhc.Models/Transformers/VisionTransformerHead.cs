namespace Mhc.Models.Transformers;

/// <summary>How a <see cref="HyperVisionTransformer"/> turns its final patch tokens into class logits.</summary>
public enum VisionTransformerHead
{
    /// <summary>The mean of all patch tokens, then Linear(Dim, classes): position-free, the smallest head.</summary>
    MeanPool,

    /// <summary>
    /// The tokens kept on their patch grid (all of them, or evenly spaced ones on a
    /// <see cref="HyperVisionTransformerOptions.HeadGridSize"/> grid), flattened, then Linear(Dim x tokens, classes):
    /// the classifier sees where each feature is.
    /// </summary>
    TokenGrid,
}
