using System.Text.Json.Serialization;
using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>
/// How a network's residual streams are connected and mixed: the one settings record every network's options
/// and every trainer's options embed unchanged (as <c>Mixing</c>). Immutable: change a copy with
/// <c>options.Mixing = options.Mixing with { ExpansionRate = 8 }</c>, so options objects that share a record
/// (shallow copies, sweep trials) never change each other.
/// </summary>
/// <remarks>
/// The defaults are the paper's mHC (arXiv 2512.24880): n = 4 streams, input-dependent mixing (eq. 5-7) and
/// H_res projected onto the doubly stochastic matrices by 20 Sinkhorn iterations (eq. 8-9).
/// </remarks>
public sealed record MixingSettings
{
    /// <summary>Connection kind around every block: plain residual, HC or mHC. Default <see cref="ConnectionKind.Mhc"/>.</summary>
    public ConnectionKind Connection { get; init; } = ConnectionKind.Mhc;

    /// <summary>
    /// Expansion rate n (residual streams); ignored (one stream) for <see cref="ConnectionKind.Residual"/>. Default 4 (paper).
    /// </summary>
    public int ExpansionRate { get; init; } = 4;

    /// <summary>Input-dependent mixing (mHC eq. 5-7) when true; the static biases only when false. Default true.</summary>
    public bool DynamicMixing { get; init; } = true;

    /// <summary>Initialisation of the static mixing biases. Default <see cref="MixingInit.IdentityLike"/>.</summary>
    public MixingInit Init { get; init; } = MixingInit.IdentityLike;

    /// <summary>
    /// Constraint on mixtures across depth (the history-window skips of a UNet's decoder) under
    /// <see cref="ConnectionKind.Mhc"/>; HC leaves them unconstrained and a residual network has none.
    /// Default <see cref="ConstraintKind.DoublyStochastic"/>.
    /// </summary>
    public ConstraintKind Constraint { get; init; } = ConstraintKind.DoublyStochastic;

    /// <summary>Sinkhorn variant of the H_res projection (mHC eq. 9). Default <see cref="SinkhornVariant.ExpFirst"/> (paper).</summary>
    public SinkhornVariant Sinkhorn { get; init; } = SinkhornVariant.ExpFirst;

    /// <summary>Sinkhorn iterations of the H_res projection. Default 20 (paper).</summary>
    public int SinkhornIterations { get; init; } = 20;

    /// <summary>
    /// Soft bound L on the H_res logits before Sinkhorn, applied as L tanh(h / L); null: none (the paper's form).
    /// Default 4. Why: with the paper's 20 iterations Sinkhorn only balances the columns while the logits stay
    /// moderate. Measured on random 4x4 logits: at a spread of std 20 the largest column sum stays at 2.0 (the
    /// backward gain the bound is meant to keep at 1), and at std 40 exp() underflows to an all-zero column
    /// and the result is NaN. Trained dynamic logits reach such values. With L = 4 the largest column sum stays
    /// at or below about 1.04 for any input, while entries up to 0.999 remain reachable. The identity-like
    /// init is stored so that the bounded logits equal <see cref="HyperConnectionOptions.IdentityStrength"/> exactly.
    /// </summary>
    public double? ResidualLogitBound { get; init; } = 4.0;

    /// <summary>The stream count actually used: 1 for <see cref="ConnectionKind.Residual"/>, else <see cref="ExpansionRate"/>.</summary>
    [JsonIgnore]
    public int Streams => Connection == ConnectionKind.Residual ? 1 : ExpansionRate;

    /// <summary>The constraint mixtures across depth actually use: <see cref="ConstraintKind.None"/> under HC.</summary>
    [JsonIgnore]
    public ConstraintKind EffectiveConstraint => Connection == ConnectionKind.Hc ? ConstraintKind.None : Constraint;

    /// <summary>Throws on inconsistent settings, naming the setting.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Connection)) throw new ArgumentOutOfRangeException(nameof(Connection), Connection, "Unknown connection kind.");
        if (Connection != ConnectionKind.Residual && ExpansionRate < 1)
            throw new ArgumentOutOfRangeException(nameof(ExpansionRate), ExpansionRate, "At least one stream.");
        if (SinkhornIterations < 1) throw new ArgumentOutOfRangeException(nameof(SinkhornIterations), SinkhornIterations, "Must be at least 1.");
        if (ResidualLogitBound is { } bound && !(bound > 0))
            throw new ArgumentOutOfRangeException(nameof(ResidualLogitBound), bound, "Must be positive (or null for no bound).");
    }

    /// <summary>
    /// The options of one hyper-connection built from these settings, for branches of <paramref name="dim"/>
    /// channels laid out as <paramref name="layout"/>; the layer index is set per block with
    /// <see cref="HyperConnectionOptions.WithLayer"/>.
    /// </summary>
    public HyperConnectionOptions ToConnection(int dim, StreamFeatureLayout layout,
        DynamicGranularity granularity = DynamicGranularity.PerToken) => new()
    {
        Dim = dim,
        Mixing = this,
        Granularity = granularity,
        Layout = layout,
    };
}
