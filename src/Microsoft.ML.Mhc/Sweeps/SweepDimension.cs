using System.Reflection;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// One swept member of an options class, read from a <c>Microsoft.ML.SearchSpace</c> attribute
/// (<see cref="Microsoft.ML.SearchSpace.RangeAttribute"/>, <see cref="Microsoft.ML.SearchSpace.ChoiceAttribute"/>
/// or <see cref="Microsoft.ML.SearchSpace.BooleanChoiceAttribute"/>).
/// </summary>
public abstract class SweepDimension
{
    private readonly MemberInfo _member;

    private protected SweepDimension(MemberInfo member)
    {
        _member = member;
        Name = member.Name;
        MemberType = member switch
        {
            FieldInfo f => f.FieldType,
            PropertyInfo p => p.PropertyType,
            _ => throw new ArgumentException($"'{member.Name}' is neither a field nor a property.", nameof(member)),
        };
    }

    /// <summary>Name of the field or property.</summary>
    public string Name { get; }

    /// <summary>Type of the field or property.</summary>
    public Type MemberType { get; }

    /// <summary>The class that declares the member (a base class for an inherited, not overridden, member).</summary>
    internal Type DeclaringType => _member.DeclaringType ?? MemberType;

    /// <summary>Draws a value at random (uniformly, or log-uniformly for log ranges).</summary>
    public abstract object Sample(Random random);

    /// <summary>The values a grid search visits for this member.</summary>
    /// <param name="pointsPerRange">Points taken from a continuous range (integer ranges give at most this many distinct values).</param>
    public abstract IReadOnlyList<object> GridValues(int pointsPerRange);

    /// <summary>Reads the member's value from <paramref name="options"/>.</summary>
    public object? GetValue(object options) => _member switch
    {
        FieldInfo f => f.GetValue(options),
        PropertyInfo p => p.GetValue(options),
        _ => null,
    };

    /// <summary>Writes <paramref name="value"/> (converted to the member's type) into <paramref name="options"/>.</summary>
    public void SetValue(object options, object value)
    {
        var converted = ConvertTo(value, MemberType, Name);
        switch (_member)
        {
            case FieldInfo f: f.SetValue(options, converted); break;
            case PropertyInfo p: p.SetValue(options, converted); break;
        }
    }

    /// <summary>Converts a candidate or sampled value to <paramref name="type"/>, naming the member if that fails.</summary>
    internal static object ConvertTo(object value, Type type, string memberName)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsInstanceOfType(value)) return value;
        try
        {
            if (target.IsEnum)
                return value is string s ? Enum.Parse(target, s, ignoreCase: false) : Enum.ToObject(target, value);
            return System.Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"Sweep value '{value}' ({value.GetType().Name}) cannot be assigned to '{memberName}' of type {type.Name}.", e);
        }
    }
}
