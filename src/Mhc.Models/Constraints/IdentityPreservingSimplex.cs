using static TorchSharp.torch;

namespace Mhc.Models.Constraints;

/// <summary>
/// A simplex whose home entry never drops below <see cref="Floor"/>: w = (1 - floor) softmax(z) + floor e_home.
/// Used by history skips so that the newest state can never be mixed away, which keeps an
/// identity path through every layer (the property mHC's doubly stochastic constraint secures for streams).
/// </summary>
public sealed class IdentityPreservingSimplex : IMixingConstraint
{
    /// <summary>Creates the constraint.</summary>
    /// <param name="floor">Minimum weight of the home entry, in [0, 1).</param>
    /// <param name="homeIndex">Index of the home entry on the last axis; negative counts from the end (-1 = newest).</param>
    public IdentityPreservingSimplex(double floor = 0.5, int homeIndex = -1)
    {
        if (floor < 0 || floor >= 1) throw new ArgumentOutOfRangeException(nameof(floor), floor, "The floor must be in [0, 1).");
        Floor = floor;
        HomeIndex = homeIndex;
    }

    /// <summary>Minimum weight of the home entry.</summary>
    public double Floor { get; }

    /// <summary>Home entry index (negative counts from the end).</summary>
    public int HomeIndex { get; }

    /// <inheritdoc />
    public string Name => $"identity-simplex-{Floor}";

    /// <inheritdoc />
    public Tensor Project(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var w = logits.to_type(ScalarType.Float32).softmax(-1) * (1 - Floor);
        long k = logits.shape[^1];
        long home = HomeIndex < 0 ? k + HomeIndex : HomeIndex;
        if (home < 0 || home >= k) throw new ArgumentOutOfRangeException(nameof(logits), $"Home index {HomeIndex} is outside {k} entries.");
        var onehot = zeros(k, dtype: ScalarType.Float32, device: logits.device);
        onehot[home] = tensor(Floor, ScalarType.Float32);
        return (w + onehot).MoveToOuterDisposeScope();
    }
}
