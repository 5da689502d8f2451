namespace Mhc.Models.Constraints;

/// <summary>Creates a constraint from its <see cref="ConstraintKind"/>.</summary>
public static class MixingConstraints
{
    /// <summary>Creates the constraint of the given kind with its documented defaults.</summary>
    /// <param name="kind">The family.</param>
    /// <param name="sinkhornIterations">Iterations for <see cref="ConstraintKind.DoublyStochastic"/>.</param>
    /// <param name="variant">Variant for <see cref="ConstraintKind.DoublyStochastic"/>.</param>
    /// <param name="identityFloor">Floor for <see cref="ConstraintKind.IdentityPreservingSimplex"/>.</param>
    public static IMixingConstraint Create(ConstraintKind kind, int sinkhornIterations = 20,
        SinkhornVariant variant = SinkhornVariant.ExpFirst, double identityFloor = 0.5) => kind switch
    {
        ConstraintKind.DoublyStochastic => new SinkhornProjection(sinkhornIterations, variant),
        ConstraintKind.Simplex => new SimplexConstraint(),
        ConstraintKind.IdentityPreservingSimplex => new IdentityPreservingSimplex(identityFloor),
        ConstraintKind.None => new NoConstraint(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown constraint kind."),
    };
}
