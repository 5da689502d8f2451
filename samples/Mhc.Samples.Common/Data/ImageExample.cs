namespace Mhc.Samples.Data;

/// <summary>One grayscale image and its class.</summary>
/// <param name="Pixels">Row-major pixels scaled to 0..1 (784 for 28x28 MNIST-style images).</param>
/// <param name="Label">Class index, 0..9 for MNIST and Fashion-MNIST.</param>
public sealed record ImageExample(float[] Pixels, int Label);
