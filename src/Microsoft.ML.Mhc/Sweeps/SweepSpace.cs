using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// The search space of an options class, read from the search-space attributes that Microsoft.ML 5.0.1
/// ships publicly in Microsoft.ML.Core: <see cref="RangeAttribute"/>, <see cref="ChoiceAttribute"/> and
/// <see cref="BooleanChoiceAttribute"/> (namespace <c>Microsoft.ML.SearchSpace</c>).
/// </summary>
/// <remarks>
/// <para>
/// These are the same attribute types that <c>Microsoft.ML.SearchSpace</c>'s <c>SearchSpace&lt;T&gt;</c> reads,
/// so an options class annotated for this sweeper can be swept unchanged by Microsoft.ML.AutoML:
/// <c>mlContext.Auto().CreateSweepableEstimator((ctx, o) =&gt; factory(o), new SearchSpace&lt;TOptions&gt;())</c>.
/// The older <c>TlcModule.SweepableFloatParam</c>/<c>SweepableLongParam</c>/<c>SweepableDiscreteParam</c>
/// attributes are internal to Microsoft.ML.Core in 5.0.1 and cannot be used outside ML.NET.
/// </para>
/// <para>
/// AutoML turns a sampled parameter set into <c>TOptions</c> through System.Text.Json, which sees public
/// properties but not public fields: a swept field needs <see cref="JsonIncludeAttribute"/> or AutoML silently
/// keeps its default. <see cref="CheckAutoMLCompatibility(Type)"/> reports that and the type rules AutoML
/// enforces. <c>NestOptionAttribute</c> members are ignored by this sweeper.
/// </para>
/// <para>
/// AutoML's tuners start from the attribute defaults (a <see cref="RangeAttribute"/>'s init, a
/// <see cref="ChoiceAttribute"/>'s or <see cref="BooleanChoiceAttribute"/>'s default), not from the values a new
/// options object holds. Both checks therefore require every default an attribute declares to equal the member's
/// value in <c>new TOptions()</c>; where a derived options class changes an inherited default, it overrides the
/// member with an attribute of its own.
/// </para>
/// </remarks>
public sealed class SweepSpace
{
    private SweepSpace(Type optionsType, IReadOnlyList<SweepDimension> dimensions)
    {
        OptionsType = optionsType;
        Dimensions = dimensions;
    }

    /// <summary>The options class this space was read from.</summary>
    public Type OptionsType { get; }

    /// <summary>The swept members: fields, then properties, each in declaration order.</summary>
    public IReadOnlyList<SweepDimension> Dimensions { get; }

    /// <summary>Finds a dimension by member name.</summary>
    public SweepDimension? this[string name] => Dimensions.FirstOrDefault(d => d.Name == name);

    /// <summary>The search space of <typeparamref name="TOptions"/>.</summary>
    public static SweepSpace For<TOptions>() => For(typeof(TOptions));

    /// <summary>
    /// Reads the search space of <paramref name="optionsType"/> from its public instance fields and properties.
    /// </summary>
    /// <exception cref="InvalidOperationException">An attribute is malformed or does not fit its member; the message names the member.</exception>
    public static SweepSpace For(Type optionsType)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        var errors = Inspect(optionsType, out var dimensions, autoMLRules: false);
        if (errors.Count > 0)
            throw new InvalidOperationException(
                $"The search space of {optionsType.Name} is invalid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
        return new SweepSpace(optionsType, dimensions);
    }

    /// <summary>
    /// Lists what would stop Microsoft.ML.AutoML's <c>SearchSpace&lt;T&gt;</c> from sweeping
    /// <paramref name="optionsType"/> as intended (empty when it is compatible): malformed attributes,
    /// attribute/member type mismatches, swept fields without <see cref="JsonIncludeAttribute"/>, read-only
    /// properties, and a missing public parameterless constructor.
    /// </summary>
    public static IReadOnlyList<string> CheckAutoMLCompatibility(Type optionsType)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        return Inspect(optionsType, out _, autoMLRules: true);
    }

    /// <summary>Draws a random assignment (member name to value) for every dimension.</summary>
    public IReadOnlyDictionary<string, object> Sample(Random random)
    {
        var assignment = new Dictionary<string, object>();
        foreach (var d in Dimensions) assignment[d.Name] = d.Sample(random);
        return assignment;
    }

    /// <summary>The Cartesian product of every dimension's grid values, first dimension varying slowest.</summary>
    public IEnumerable<IReadOnlyDictionary<string, object>> Grid(int pointsPerRange)
    {
        var axes = Dimensions.Select(d => d.GridValues(pointsPerRange)).ToArray();
        if (axes.Length == 0) yield break;
        var index = new int[axes.Length];
        while (true)
        {
            var assignment = new Dictionary<string, object>();
            for (int i = 0; i < axes.Length; i++) assignment[Dimensions[i].Name] = axes[i][index[i]];
            yield return assignment;
            int k = axes.Length - 1;
            while (k >= 0 && ++index[k] == axes[k].Count) index[k--] = 0;
            if (k < 0) yield break;
        }
    }

    /// <summary>Number of points <see cref="Grid"/> yields.</summary>
    public long GridSize(int pointsPerRange) =>
        Dimensions.Count == 0 ? 0 : Dimensions.Aggregate(1L, (n, d) => n * d.GridValues(pointsPerRange).Count);

    /// <summary>Writes an assignment into <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The assignment names a member this space does not sweep.</exception>
    public void Apply(object options, IReadOnlyDictionary<string, object> assignment)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (name, value) in assignment)
        {
            var d = this[name] ?? throw new ArgumentException(
                $"'{name}' is not a swept member of {OptionsType.Name} (swept: {string.Join(", ", Dimensions.Select(x => x.Name))}).", nameof(assignment));
            d.SetValue(options, value);
        }
    }

    /// <summary>Reads the current value of every dimension from <paramref name="options"/>.</summary>
    public IReadOnlyDictionary<string, object> Read(object options)
    {
        var assignment = new Dictionary<string, object>();
        foreach (var d in Dimensions)
            if (d.GetValue(options) is { } v) assignment[d.Name] = v;
        return assignment;
    }

    /// <summary>A copy of this space restricted to the named members (or without them).</summary>
    internal SweepSpace Filter(IReadOnlyCollection<string>? include, IReadOnlyCollection<string>? exclude)
    {
        foreach (var name in (include ?? []).Concat(exclude ?? []))
            if (this[name] is null)
                throw new ArgumentException($"'{name}' is not a swept member of {OptionsType.Name} (swept: {string.Join(", ", Dimensions.Select(x => x.Name))}).");
        var kept = Dimensions.Where(d => (include is null || include.Contains(d.Name)) && (exclude is null || !exclude.Contains(d.Name))).ToList();
        return new SweepSpace(OptionsType, kept);
    }

    private static readonly Type[] ChoiceMemberTypes =
        [typeof(string), typeof(int), typeof(short), typeof(long), typeof(float), typeof(double), typeof(char)];

    private static List<string> Inspect(Type type, out List<SweepDimension> dimensions, bool autoMLRules)
    {
        var errors = new List<string>();
        dimensions = [];
        if (autoMLRules && (!type.IsClass || type.GetConstructor(Type.EmptyTypes) is null))
            errors.Add($"{type.Name}: AutoML's SearchSpace<T> needs a class with a public parameterless constructor.");

        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        var members = type.GetFields(flags).Cast<MemberInfo>().Concat(type.GetProperties(flags))
            .OrderBy(m => m.MetadataToken);
        foreach (var member in members)
        {
            var range = member.GetCustomAttribute<RangeAttribute>(inherit: false);
            var choice = member.GetCustomAttribute<ChoiceAttribute>(inherit: false);
            var boolean = member.GetCustomAttribute<BooleanChoiceAttribute>(inherit: false);
            int count = (range is null ? 0 : 1) + (choice is null ? 0 : 1) + (boolean is null ? 0 : 1);
            if (count == 0) continue;
            string name = $"{type.Name}.{member.Name}";
            if (count > 1) { errors.Add($"{name}: only one of [Range], [Choice], [BooleanChoice] may be applied."); continue; }

            var memberType = member is FieldInfo f ? f.FieldType : ((PropertyInfo)member).PropertyType;
            if (member is PropertyInfo p && (p.SetMethod is null || !p.SetMethod.IsPublic))
            { errors.Add($"{name}: a swept property needs a public setter."); continue; }
            if (autoMLRules && member is FieldInfo && member.GetCustomAttribute<JsonIncludeAttribute>() is null)
                errors.Add($"{name}: a swept public field needs [JsonInclude], or AutoML's Parameter.AsType<T>() (System.Text.Json) silently leaves it at its default.");

            try
            {
                SweepDimension? d = range is not null ? FromRange(member, memberType, range, name)
                    : choice is not null ? FromChoice(member, memberType, choice, name)
                    : FromBoolean(member, memberType, boolean!, name);
                dimensions.Add(d);
            }
            catch (InvalidOperationException e)
            {
                errors.Add(e.Message);
            }
        }
        CheckDefaults(type, dimensions, errors);
        return errors;
    }

    /// <summary>Reports every declared attribute default that differs from the member's value in a new instance.</summary>
    private static void CheckDefaults(Type type, List<SweepDimension> dimensions, List<string> errors)
    {
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null || dimensions.Count == 0) return;
        object instance;
        try
        {
            instance = Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e)
        {
            errors.Add($"{type.Name}: its parameterless constructor threw {e.InnerException?.GetType().Name}: {e.InnerException?.Message}, so the attribute defaults cannot be checked.");
            return;
        }
        foreach (var d in dimensions)
        {
            var actual = d.GetValue(instance);
            var (declared, attribute) = d switch
            {
                RangeDimension { Init: { } init } => ((object?)init, "[Range] init"),
                ChoiceDimension { IsBoolean: true } c => (c.DefaultValue, "[BooleanChoice] default"),
                ChoiceDimension c => (c.DefaultValue, "[Choice] default"),
                _ => (null, ""),
            };
            if (declared is null || SameDefault(declared, actual)) continue;
            string where = d.DeclaringType == type ? "" : $" (declared in {d.DeclaringType.Name}: override it in {type.Name} with an attribute of its own)";
            errors.Add($"{type.Name}.{d.Name}: the {attribute} is {Format(declared)} but new {type.Name}() holds {Format(actual)}; " +
                $"AutoML starts its search from the attribute's default, so make them equal{where}.");
        }
    }

    private static bool SameDefault(object declared, object? actual)
    {
        if (actual is null) return false;
        if (declared is double init)
        {
            double value = System.Convert.ToDouble(actual, System.Globalization.CultureInfo.InvariantCulture);
            // A float member holds a rounded copy of a double init.
            return value == init || Math.Abs(value - init) <= 1e-6 * Math.Max(Math.Abs(init), Math.Abs(value));
        }
        return Equals(declared, actual);
    }

    private static string Format(object? value) =>
        value is null ? "null" : System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null";

    private static RangeDimension FromRange(MemberInfo member, Type memberType, RangeAttribute a, string name)
    {
        var t = Nullable.GetUnderlyingType(memberType) ?? memberType;
        bool integer = a.Min is int;
        if (!integer && (t == typeof(int) || t == typeof(short) || t == typeof(long)))
            throw new InvalidOperationException($"{name}: a floating-point [Range] cannot apply to an integer member ({t.Name}); use integer bounds.");
        if (t != typeof(int) && t != typeof(short) && t != typeof(long) && t != typeof(float) && t != typeof(double))
            throw new InvalidOperationException($"{name}: [Range] needs a numeric member (int, short, long, float, double); found {t.Name}.");
        double min = System.Convert.ToDouble(a.Min, System.Globalization.CultureInfo.InvariantCulture);
        double max = System.Convert.ToDouble(a.Max, System.Globalization.CultureInfo.InvariantCulture);
        double? init = a.Init is null ? null : System.Convert.ToDouble(a.Init, System.Globalization.CultureInfo.InvariantCulture);
        if (!(min < max)) throw new InvalidOperationException($"{name}: [Range] needs min < max; found min={min}, max={max}.");
        if (a.LogBase && min <= 0) throw new InvalidOperationException($"{name}: a log-scale [Range] needs min > 0; found min={min}.");
        if (init is { } i && (i < min || i > max)) throw new InvalidOperationException($"{name}: [Range] init {i} lies outside [{min}, {max}].");
        return new RangeDimension(member, min, max, init, a.LogBase, integer);
    }

    private static ChoiceDimension FromChoice(MemberInfo member, Type memberType, ChoiceAttribute a, string name)
    {
        var t = Nullable.GetUnderlyingType(memberType) ?? memberType;
        if (!t.IsEnum && !ChoiceMemberTypes.Contains(t))
            throw new InvalidOperationException($"{name}: [Choice] needs an enum, string, char or numeric member; found {t.Name}.");
        if (a.Candidates is null || a.Candidates.Length == 0)
            throw new InvalidOperationException($"{name}: [Choice] needs at least one candidate.");
        if (a.Candidates.Select(c => c?.GetType()).Distinct().Count() != 1)
            throw new InvalidOperationException($"{name}: [Choice] candidates must all have one type; found {string.Join(", ", a.Candidates.Select(c => c?.GetType().Name ?? "null").Distinct())}.");
        var candidates = a.Candidates.Select(c => SweepDimension.ConvertTo(c, t, name)).ToList();
        if (candidates.Distinct().Count() != candidates.Count)
            throw new InvalidOperationException($"{name}: [Choice] candidates must be distinct.");
        object? def = a.DefaultValue is null ? null : SweepDimension.ConvertTo(a.DefaultValue, t, name);
        if (def is not null && !candidates.Contains(def))
            throw new InvalidOperationException($"{name}: [Choice] default '{def}' is not among the candidates.");
        return new ChoiceDimension(member, candidates, def, isBoolean: false);
    }

    private static ChoiceDimension FromBoolean(MemberInfo member, Type memberType, BooleanChoiceAttribute a, string name)
    {
        if ((Nullable.GetUnderlyingType(memberType) ?? memberType) != typeof(bool))
            throw new InvalidOperationException($"{name}: [BooleanChoice] needs a bool member; found {memberType.Name}.");
        return new ChoiceDimension(member, [true, false], a.DefaultValue, isBoolean: true);
    }
}
