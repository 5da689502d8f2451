namespace Mhc.Models.Transformers;

/// <summary>How a <see cref="HyperVisionTransformer"/> tells its patch tokens where they are.</summary>
public enum PatchPositionEncoding
{
    /// <summary>A learned vector per patch, initialised N(0, 0.02^2).</summary>
    Learned,

    /// <summary>Fixed 2-D sinusoids: half the channels encode the patch row, half its column (see <see cref="SinusoidalPositions2D"/>).</summary>
    Sinusoidal2D,
}
