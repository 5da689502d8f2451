using System.Globalization;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// A value of a label's type that is none of its classes, so that <c>MapValueToKey</c> maps it to the missing key 0:
/// NaN for floating point, an unused number for integers, an unused string for text. Boolean labels have none (both
/// values are classes).
/// </summary>
internal static class MissingValue
{
    /// <summary>Finds such a value for the classes <paramref name="classes"/>.</summary>
    public static bool TryFind<T>(IReadOnlyList<T> classes, out T? value)
    {
        object? found = classes switch
        {
            IReadOnlyList<float> => float.NaN,
            IReadOnlyList<double> => double.NaN,
            IReadOnlyList<ReadOnlyMemory<char>> text => UnusedText(text.Select(t => t.ToString())).AsMemory(),
            IReadOnlyList<string> text => UnusedText(text),
            _ when typeof(T).IsPrimitive && typeof(T) != typeof(bool) && typeof(T) != typeof(char) => UnusedInteger(classes),
            _ => null,
        };
        value = found is T typed ? typed : default;
        return found is T;
    }

    private static string UnusedText(IEnumerable<string> classes)
    {
        var used = classes.ToHashSet(StringComparer.Ordinal);
        var candidate = "<missing>";
        for (int i = 1; used.Contains(candidate); i++) candidate = $"<missing {i}>";
        return candidate;
    }

    private static object? UnusedInteger<T>(IReadOnlyList<T> classes)
    {
        var used = classes.Select(c => Convert.ToDecimal(c, CultureInfo.InvariantCulture)).ToHashSet();
        // The first of 0, 1, 2, ... that is no class and fits the type (K classes leave one free among K + 1 values).
        for (decimal candidate = 0; candidate <= classes.Count; candidate++)
        {
            if (used.Contains(candidate)) continue;
            try
            {
                return Convert.ChangeType(candidate, typeof(T), CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                return null;
            }
        }
        return null;
    }
}
