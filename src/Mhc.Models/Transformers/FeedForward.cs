using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>The transformer MLP: Linear(C, rC), GELU, Linear(rC, C), dropout.</summary>
public sealed class FeedForward : Module<Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly Linear proj;
    private readonly Dropout dropout;

    /// <summary>Creates the MLP.</summary>
    /// <param name="dim">Model width C.</param>
    /// <param name="ratio">Hidden width as a multiple of C (4 in GPT-2 and ViT).</param>
    /// <param name="dropout">Dropout on the output, in training only.</param>
    /// <param name="outputInitStd">Standard deviation of the output projection at init.</param>
    /// <param name="name">Module name.</param>
    public FeedForward(int dim, int ratio, double dropout, double outputInitStd = 0.02, string name = "mlp") : base(name)
    {
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "At least one feature.");
        if (ratio < 1) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The hidden ratio must be at least 1.");
        fc = Linear(dim, ratio * dim);
        proj = Linear(ratio * dim, dim);
        this.dropout = Dropout(dropout);
        using (no_grad())
        {
            init.normal_(fc.weight!, 0, 0.02);
            init.zeros_(fc.bias!);
            init.normal_(proj.weight!, 0, outputInitStd);
            init.zeros_(proj.bias!);
        }
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => dropout.forward(proj.forward(functional.gelu(fc.forward(x))));
}
