using System.Reflection;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// Successive halving on epochs (Jamieson and Talwalkar 2016; the inner loop of Hyperband): each bracket
/// trains a batch of configurations for a few epochs, keeps the best 1/<see cref="ReductionFactor"/>, trains
/// those for <see cref="ReductionFactor"/> times as many epochs, and so on up to <see cref="MaxEpochs"/>.
/// Every fit is one trial; a promoted configuration is trained again from scratch with the larger budget
/// (ML.NET estimators have no warm start). Poor settings thus cost a few epochs instead of a full run.
/// </summary>
/// <typeparam name="TOptions">The trainer options type.</typeparam>
public sealed class SuccessiveHalving<TOptions> where TOptions : class
{
    /// <summary>Creates a schedule that sets the epoch budget of a trial with <paramref name="setEpochs"/>.</summary>
    /// <param name="setEpochs">Writes the number of epochs into a trial's options.</param>
    /// <param name="minEpochs">Epochs of the first rung (default 1).</param>
    /// <param name="maxEpochs">Epochs of the last rung; survivors are trained this long.</param>
    /// <param name="reductionFactor">Keep 1/η of each rung and multiply epochs by η (default 3).</param>
    /// <param name="epochMemberName">Name of the epochs member, so the sweeper does not also sample it (optional).</param>
    public SuccessiveHalving(Action<TOptions, int> setEpochs, int minEpochs, int maxEpochs, int reductionFactor = 3, string? epochMemberName = null)
    {
        SetEpochs = setEpochs ?? throw new ArgumentNullException(nameof(setEpochs));
        if (minEpochs < 1) throw new ArgumentOutOfRangeException(nameof(minEpochs), minEpochs, "Need at least one epoch on the first rung.");
        if (maxEpochs < minEpochs) throw new ArgumentOutOfRangeException(nameof(maxEpochs), maxEpochs, $"maxEpochs must be >= minEpochs ({minEpochs}).");
        if (reductionFactor < 2) throw new ArgumentOutOfRangeException(nameof(reductionFactor), reductionFactor, "The reduction factor must be at least 2.");
        MinEpochs = minEpochs;
        MaxEpochs = maxEpochs;
        ReductionFactor = reductionFactor;
        EpochMemberName = epochMemberName;
    }

    /// <summary>
    /// A schedule that writes the epoch budget into the int (or long) field or property <paramref name="memberName"/>
    /// of <typeparamref name="TOptions"/>, e.g. <c>"NumberOfEpochs"</c>; that member is then not sampled.
    /// </summary>
    /// <exception cref="ArgumentException">No such public, writable integer member.</exception>
    public static SuccessiveHalving<TOptions> ForMember(string memberName, int minEpochs, int maxEpochs, int reductionFactor = 3)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberName);
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        Action<TOptions, int> set;
        var field = typeof(TOptions).GetField(memberName, flags);
        var property = typeof(TOptions).GetProperty(memberName, flags);
        if (field is not null && !field.IsInitOnly && (field.FieldType == typeof(int) || field.FieldType == typeof(long)))
            set = (o, e) => field.SetValue(o, System.Convert.ChangeType(e, field.FieldType, System.Globalization.CultureInfo.InvariantCulture));
        else if (property is not null && property.SetMethod is { IsPublic: true } && (property.PropertyType == typeof(int) || property.PropertyType == typeof(long)))
            set = (o, e) => property.SetValue(o, System.Convert.ChangeType(e, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
        else
            throw new ArgumentException($"{typeof(TOptions).Name} has no public writable int/long field or property named '{memberName}' to hold the epoch budget.", nameof(memberName));
        return new SuccessiveHalving<TOptions>(set, minEpochs, maxEpochs, reductionFactor, memberName);
    }

    /// <summary>Writes the number of epochs into a trial's options.</summary>
    public Action<TOptions, int> SetEpochs { get; }

    /// <summary>Epochs of the first rung.</summary>
    public int MinEpochs { get; }

    /// <summary>Epochs of the last rung.</summary>
    public int MaxEpochs { get; }

    /// <summary>η: the fraction kept per rung is 1/η and the epochs grow η-fold.</summary>
    public int ReductionFactor { get; }

    /// <summary>The epochs member excluded from sampling, if known.</summary>
    public string? EpochMemberName { get; }

    /// <summary>
    /// Configurations started per bracket; default η^(rungs-1), so that exactly one reaches the last rung.
    /// </summary>
    public int? ConfigurationsPerBracket { get; init; }

    /// <summary>Epoch budget of each rung: MinEpochs·η^k, capped at (and ending with) MaxEpochs.</summary>
    public IReadOnlyList<int> Rungs
    {
        get
        {
            var rungs = new List<int>();
            long e = MinEpochs;
            while (e < MaxEpochs) { rungs.Add((int)e); e *= ReductionFactor; }
            rungs.Add(MaxEpochs);
            return rungs;
        }
    }

    internal int BracketSize
    {
        get
        {
            if (ConfigurationsPerBracket is { } n) return Math.Max(1, n);
            long size = 1;
            for (int k = 1; k < Rungs.Count; k++) size *= ReductionFactor;
            return (int)Math.Min(size, 1024);
        }
    }
}
