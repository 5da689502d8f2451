namespace Mhc.Models;

/// <summary>
/// What to do about oneDNN's CPU convolutions, whose input gradients are wrong on some CPUs for channel counts that
/// are not a multiple of 16 (see <see cref="Native.ConvolutionBackendCheck"/> and
/// <see cref="MhcRuntimeOptions.OneDnnConvolutions"/>).
/// </summary>
public enum OneDnnConvolutionMode
{
    /// <summary>Check each convolution shape once before training and turn oneDNN off only if one is wrong. The default.</summary>
    Verify = 0,

    /// <summary>Keep oneDNN on without checking (<c>MHC_MKLDNN=on</c>).</summary>
    Trust = 1,

    /// <summary>Turn oneDNN convolutions off for the process (<c>MHC_MKLDNN=off</c>): slower, never affected.</summary>
    Disable = 2,
}
