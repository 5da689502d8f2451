using Mhc.Models.Constraints;

namespace Mhc.Models.Layers;

/// <summary>
/// The named option sets of the Python <c>mhc</c> package (<c>get_preset</c>), as <see cref="HistoryWindowSkipOptions"/>.
/// Each call returns a new object, so a caller may change it. Fields a preset does not name keep this library's
/// defaults (H = 4, history not detached, auto-projection on).
/// </summary>
public static class HistoryWindowSkipPresets
{
    /// <summary>The preset names accepted by <see cref="Get"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["stable", "aggressive", "research"];

    /// <summary>
    /// <c>stable</c>: identity-preserving constraint with epsilon 0.1 (the newest state keeps at least 10 %),
    /// temperature 1, identity init: every layer starts as a plain residual connection.
    /// </summary>
    public static HistoryWindowSkipOptions Stable() => new()
    {
        Constraint = ConstraintKind.IdentityPreservingSimplex,
        IdentityFloor = 0.1,
        Temperature = 1.0,
        Init = HistoryMixingInit.Identity,
    };

    /// <summary><c>aggressive</c>: simplex, temperature 0.7 (sharper weights), uniform init.</summary>
    public static HistoryWindowSkipOptions Aggressive() => new()
    {
        Constraint = ConstraintKind.Simplex,
        IdentityFloor = 0.0,
        Temperature = 0.7,
        Init = HistoryMixingInit.Uniform,
    };

    /// <summary>
    /// <c>research</c>: simplex, temperature 1, uniform init. The package also sets epsilon 0.05, which its simplex
    /// constraint does not use; it is kept here as <see cref="HistoryWindowSkipOptions.IdentityFloor"/> so that
    /// switching the constraint to the identity-preserving one gives the package's value.
    /// </summary>
    public static HistoryWindowSkipOptions Research() => new()
    {
        Constraint = ConstraintKind.Simplex,
        IdentityFloor = 0.05,
        Temperature = 1.0,
        Init = HistoryMixingInit.Uniform,
    };

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static HistoryWindowSkipOptions Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "stable" => Stable(),
            "aggressive" => Aggressive(),
            "research" => Research(),
            _ => throw new ArgumentException($"Unknown history-skip preset '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}
