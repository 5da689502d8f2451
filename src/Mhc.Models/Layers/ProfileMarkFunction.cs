using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Mhc.Models.Layers;

/// <summary>
/// The identity, as an autograd node whose backward reports to the running <see cref="MixingProfiler"/>
/// which section's gradient has just been computed.
/// </summary>
internal sealed class ProfileMarkFunction : SingleTensorFunction<ProfileMarkFunction>
{
    /// <inheritdoc />
    public override string Name => "MhcProfileMark";

    /// <inheritdoc />
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        ctx.save_data("section", vars[1]);
        ctx.set_materialize_grads(false);
        return input.alias();
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        MixingProfiler.Active?.OnBackward((string)ctx.get_data("section"));
        return [grad_output.IsInvalid ? null! : grad_output, null!];
    }
}
