namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>The network family of an mHC image classifier.</summary>
public enum MhcImageArchitecture
{
    /// <summary>Pre-activation ResNet whose residual connections are hyper-connections (default; best for small images on CPU).</summary>
    HyperResNet,
    /// <summary>Vision transformer with hyper-connected blocks: patch embedding, n streams, blocks, pooling, classifier.</summary>
    VisionTransformer,
}
