using System.Reflection;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>A numeric member swept over [<see cref="Min"/>, <see cref="Max"/>], linearly or on a log scale.</summary>
public sealed class RangeDimension : SweepDimension
{
    internal RangeDimension(MemberInfo member, double min, double max, double? init, bool logBase, bool integer)
        : base(member)
    {
        Min = min;
        Max = max;
        Init = init;
        LogBase = logBase;
        IsInteger = integer;
    }

    /// <summary>Smallest value.</summary>
    public double Min { get; }

    /// <summary>Largest value.</summary>
    public double Max { get; }

    /// <summary>The attribute's initial value, if it gave one.</summary>
    public double? Init { get; }

    /// <summary>Whether values are spread evenly on a log scale (learning rates, weight decay).</summary>
    public bool LogBase { get; }

    /// <summary>Whether the attribute declared an integer range (values are rounded).</summary>
    public bool IsInteger { get; }

    /// <inheritdoc/>
    public override object Sample(Random random) => FromUnit(random.NextDouble(), random);

    /// <inheritdoc/>
    public override IReadOnlyList<object> GridValues(int pointsPerRange)
    {
        if (pointsPerRange < 1) throw new ArgumentOutOfRangeException(nameof(pointsPerRange), pointsPerRange, "Need at least one grid point per range.");
        var values = new List<object>();
        for (int i = 0; i < pointsPerRange; i++)
        {
            double u = pointsPerRange == 1 ? 0.5 : i / (double)(pointsPerRange - 1);
            var v = FromUnit(u, null);
            if (!values.Contains(v)) values.Add(v);
        }
        return values;
    }

    // u in [0, 1] maps onto the range; integer ranges need the random source to spread the top value fairly.
    private object FromUnit(double u, Random? random)
    {
        if (IsInteger)
        {
            if (LogBase)
            {
                double x = Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min)));
                return (int)Math.Clamp(Math.Round(x), Min, Max);
            }
            if (random is not null)
            {
                // Each integer in [Min, Max] equally likely: floor over the widened interval.
                double x = Min + u * (Max - Min + 1);
                return (int)Math.Clamp(Math.Floor(x), Min, Max);
            }
            return (int)Math.Round(Min + u * (Max - Min));
        }
        double value = LogBase
            ? Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min)))
            : Min + u * (Max - Min);
        return Math.Clamp(value, Min, Max);
    }
}
