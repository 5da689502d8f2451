using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>Runs one block of a network in its own dispose scope.</summary>
/// <remarks>
/// Training and scoring loops wrap each batch in a dispose scope, which keeps every temporary of the forward pass
/// alive until the batch is done: for scoring a 256-image batch through a Hyper-ResNet that measured several GB, as
/// each block makes n-stream copies at full resolution. Scoping each block frees its temporaries as soon as it
/// returns; in training, autograd still holds what backward needs by its own references.
/// </remarks>
internal static class ScopedForward
{
    /// <summary>Returns <paramref name="module"/>(<paramref name="input"/>), registered in the caller's scope.</summary>
    public static Tensor Apply(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Apply(input, module.forward);
    }

    /// <summary>Returns <paramref name="block"/>(<paramref name="input"/>), registered in the caller's scope.</summary>
    public static Tensor Apply(Tensor input, Func<Tensor, Tensor> block)
    {
        using var scope = NewDisposeScope();
        var output = block(input);
        // A block that returns its input unchanged must not take it out of the caller's scope.
        return ReferenceEquals(output, input) ? output : output.MoveToOuterDisposeScope();
    }
}
