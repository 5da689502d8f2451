using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Mhc.Catalog;

/// <summary>
/// The caller's ML.NET environment behind a catalog such as <c>mlContext.MulticlassClassification.Trainers</c>: its
/// log and random source. ML.NET keeps the catalog's environment behind an internal interface
/// (<c>Microsoft.ML.Data.IInternalCatalog.Environment</c>, the one its own extension trainers use), so it is read by
/// reflection; the environment is the one the <see cref="MLContext"/> logs and seeds through.
/// </summary>
internal static class CatalogEnvironment
{
    private const string InternalCatalog = "Microsoft.ML.Data.IInternalCatalog";

    /// <summary>The environment of <paramref name="catalog"/>.</summary>
    /// <exception cref="NotSupportedException">This ML.NET version hides it elsewhere (the message names the version).</exception>
    public static IHostEnvironment Of(object catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var contract = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.FullName == InternalCatalog);
        var property = contract?.GetProperty("Environment", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        return property?.GetValue(catalog) as IHostEnvironment
            ?? throw new NotSupportedException(
                $"Cannot reach the MLContext behind {catalog.GetType().Name} in ML.NET {typeof(MLContext).Assembly.GetName().Version}: " +
                $"no {InternalCatalog}.Environment. Create the trainer with its constructor, passing your MLContext.");
    }

    /// <summary>
    /// The <see cref="MLContext"/> that owns <paramref name="environment"/>, or null when it cannot be found.
    /// </summary>
    /// <remarks>
    /// An <see cref="MLContext"/> wraps its environment and listens to its messages; that listener is the only path from
    /// a catalog back to the context, so the environment's fields are searched (a few levels deep, delegates and
    /// collections included) for a listener whose target is an <see cref="MLContext"/> on this very environment.
    /// </remarks>
    public static MLContext? ContextOf(IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var level = new List<object> { environment };
        for (int depth = 0; depth < 6 && level.Count > 0; depth++)
        {
            var next = new List<object>();
            foreach (var node in level)
                foreach (var child in Children(node))
                {
                    if (child is MLContext ml && Owns(ml, environment)) return ml;
                    if (seen.Add(child) && seen.Count < 10_000) next.Add(child);
                }
            level = next;
        }
        return null;
    }

    // The context's own environment is its private field; comparing catalogs' environments avoids naming that field.
    private static bool Owns(MLContext ml, IHostEnvironment environment) =>
        ReferenceEquals(Of(ml.MulticlassClassification.Trainers), environment);

    private static IEnumerable<object> Children(object node)
    {
        if (node is Delegate d)
        {
            foreach (var target in d.GetInvocationList().Select(x => x.Target))
                if (target is not null) yield return target;
            yield break;
        }
        if (node is System.Collections.IEnumerable items && node is not string)
        {
            foreach (var item in items)
                if (item is not null && !item.GetType().IsPrimitive) yield return item;
        }
        for (var type = node.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (!field.FieldType.IsPrimitive && !field.FieldType.IsEnum && field.FieldType != typeof(string) && field.GetValue(node) is { } value)
                    yield return value;
    }

    /// <summary>
    /// The seed for one Fit: <paramref name="seed"/> when set, otherwise the next draw from the environment's random source
    /// (ML.NET's convention: reproducible with <c>new MLContext(seed: n)</c>).
    /// </summary>
    public static int ResolveSeed(IHostEnvironment environment, string component, int? seed) =>
        seed ?? environment.Register(component).Rand.Next();
}
