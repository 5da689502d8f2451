using System.Reflection;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>A member swept over a fixed list of candidates (strings, numbers, enum values or true/false).</summary>
public sealed class ChoiceDimension : SweepDimension
{
    internal ChoiceDimension(MemberInfo member, IReadOnlyList<object> candidates, object? defaultValue, bool isBoolean)
        : base(member)
    {
        Candidates = candidates;
        DefaultValue = defaultValue;
        IsBoolean = isBoolean;
    }

    /// <summary>The candidates, converted to the member's type.</summary>
    public IReadOnlyList<object> Candidates { get; }

    /// <summary>The attribute's default candidate, if it gave one.</summary>
    public object? DefaultValue { get; }

    /// <summary>Whether this came from a <see cref="Microsoft.ML.SearchSpace.BooleanChoiceAttribute"/>.</summary>
    public bool IsBoolean { get; }

    /// <inheritdoc/>
    public override object Sample(Random random) => Candidates[random.Next(Candidates.Count)];

    /// <inheritdoc/>
    public override IReadOnlyList<object> GridValues(int pointsPerRange) => Candidates;
}
