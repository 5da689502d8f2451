namespace Mhc.Samples.Data;

/// <summary>An R generic vector, i.e. <c>list()</c> (VECSXP); elements are addressed by position or by <c>names</c>.</summary>
/// <param name="values">The elements.</param>
public sealed class RList(RObject[] values) : RObject
{
    /// <summary>The elements.</summary>
    public IReadOnlyList<RObject> Values { get; } = values;

    /// <summary>The element whose name is <paramref name="name"/>, or null.</summary>
    /// <param name="name">An entry of the <c>names</c> attribute.</param>
    public RObject? this[string name]
    {
        get
        {
            var names = Names;
            if (names is null)
            {
                return null;
            }

            for (int i = 0; i < names.Count && i < Values.Count; i++)
            {
                if (names[i] == name)
                {
                    return Values[i];
                }
            }

            return null;
        }
    }
}
