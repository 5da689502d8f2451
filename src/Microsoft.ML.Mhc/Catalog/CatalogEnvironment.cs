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
    /// The seed for one Fit: <paramref name="seed"/> when set, otherwise the next draw from the environment's random source
    /// (ML.NET's convention: reproducible with <c>new MLContext(seed: n)</c>).
    /// </summary>
    public static int ResolveSeed(IHostEnvironment environment, string component, int? seed) =>
        seed ?? environment.Register(component).Rand.Next();
}
