using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>
/// Named option sets for <see cref="HyperConnection"/>: this library's tuned default and the paper's equations as
/// written. Each call returns a new object. The README's deviation table lists what differs and what each
/// difference was measured to do.
/// </summary>
public static class HyperConnectionPresets
{
    /// <summary>
    /// Today's default (<c>new HyperConnectionOptions()</c>): mHC with the identity-like bias init and the residual
    /// logit bound L tanh(h / L), L = 4, which keep Sinkhorn's 20 iterations in the range where they balance the
    /// columns (see <see cref="MixingSettings.ResidualLogitBound"/>).
    /// </summary>
    /// <param name="dim">Channels C of each stream.</param>
    /// <param name="streams">Expansion rate n.</param>
    public static HyperConnectionOptions Default(int dim, int streams = 4) => new() { Dim = dim, Mixing = new() { ExpansionRate = streams } };

    /// <summary>
    /// mHC as the paper writes it (arXiv 2512.24880, eq. 5-9): all mixing biases zero (<see cref="MixingInit.Paper"/>:
    /// H_res = Sinkhorn(0) uniform, H_pre = 0.5, H_post = 1), no bound on the H_res logits, Sinkhorn exp-first with
    /// 20 iterations, gating factors alpha = 0.01, per-token dynamic mixing. The paper does not give the init of Phi;
    /// it keeps this library's N(0, 0.02^2).
    /// </summary>
    /// <param name="dim">Channels C of each stream.</param>
    /// <param name="streams">Expansion rate n (paper: 4).</param>
    public static HyperConnectionOptions PaperExact(int dim, int streams = 4) => new()
    {
        Dim = dim,
        Mixing = new()
        {
            Connection = ConnectionKind.Mhc,
            ExpansionRate = streams,
            DynamicMixing = true,
            Init = MixingInit.Paper,
            ResidualLogitBound = null,
            Sinkhorn = SinkhornVariant.ExpFirst,
            SinkhornIterations = 20,
        },
        Granularity = DynamicGranularity.PerToken,
        GateInit = 0.01,
    };
}
