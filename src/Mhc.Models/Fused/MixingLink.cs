using static TorchSharp.torch;

namespace Mhc.Models.Fused;

/// <summary>
/// Joins the two autograd nodes of one fused hyper-connection call: the write-in node leaves the gradient of the
/// output streams here, and the read-out node, whose backward runs after the branch's, takes it to write the whole
/// gradient of the input streams in one pass.
/// </summary>
internal sealed class MixingLink
{
    private Tensor? outputGradient;

    /// <summary>Keeps the output streams' gradient (contiguous) for the read-out node.</summary>
    public void Leave(Tensor gradient)
    {
        outputGradient?.Dispose();
        outputGradient = gradient;
    }

    /// <summary>The output streams' gradient left by the write-in node, or null; the link forgets it.</summary>
    public Tensor? Take()
    {
        var gradient = outputGradient;
        outputGradient = null;
        return gradient;
    }
}
