using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Frees the native memory of the mHC networks inside a model, whatever its form: a trained transformer, a
/// pipeline, or a chain loaded with <c>mlContext.Model.Load</c>.
/// </summary>
/// <remarks>
/// ML.NET's <c>TransformerChain.Dispose</c> only reaches transformers that are themselves disposable, and a loaded
/// mHC model is a chain of stock transforms (see <see cref="SavedScoringChain"/>): its network lives in a
/// <see cref="LoadedNetworkCache{TNetwork}"/> keyed by the blob the chain carries. <see cref="Release"/> finds that
/// blob by running the chain's network lookup on one empty row and frees what the caches decoded for it.
/// Without it the network is freed when the garbage collector finds the loaded chain unreachable.
/// </remarks>
public static class SavedNetworks
{
    private static readonly List<ILoadedNetworkCache> Caches = [];

    internal static void Register(ILoadedNetworkCache cache)
    {
        lock (Caches) Caches.Add(cache);
    }

    /// <summary>
    /// Frees every mHC network in <paramref name="model"/>: mHC transformers are disposed; a loaded chain's networks are
    /// freed and the chain throws <see cref="ObjectDisposedException"/> when it scores again. Other transformers are
    /// left alone. Safe to call more than once.
    /// </summary>
    /// <returns>How many networks were freed by this call.</returns>
    public static int Release(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        switch (model)
        {
            case MhcLoadedModel loaded:
                return loaded.Release();
            case IEnumerable<ITransformer> chain:
                var parts = chain.ToList();
                return LookupBlobs(parts).Sum(ReleaseBlob) + parts.Sum(Release);
            case IDisposable disposable when model.GetType().Assembly == typeof(SavedNetworks).Assembly:
                bool wasLive = model is not IReleasable r || !r.IsReleased;
                disposable.Dispose();
                return wasLive ? 1 : 0;
            default:
                return 0;
        }
    }

    /// <summary>The network blobs carried by the network lookups (<see cref="SavedScoringChain.NetworkLookup"/>) of a chain, nested chains included.</summary>
    internal static IEnumerable<ReadOnlyMemory<char>> Blobs(ITransformer model) =>
        model is IEnumerable<ITransformer> chain && chain.ToList() is var parts
            ? LookupBlobs(parts).Concat(parts.SelectMany(Blobs))
            : [];

    // The blobs of the lookups directly among parts: a NetworkKey custom mapping followed by its MapValue.
    private static IEnumerable<ReadOnlyMemory<char>> LookupBlobs(IReadOnlyList<ITransformer> parts)
    {
        for (int i = 0; i + 1 < parts.Count; i++)
            if (parts[i] is CustomMappingTransformer<NetworkKeyInput, NetworkKeyOutput> key && Blob(key, parts[i + 1]) is { } blob)
                yield return blob;
    }

    /// <summary>Frees what the caches decoded for <paramref name="blob"/>; the number of networks freed.</summary>
    internal static int ReleaseBlob(ReadOnlyMemory<char> blob)
    {
        ILoadedNetworkCache[] caches;
        lock (Caches) caches = Caches.ToArray();
        return caches.Count(cache => cache.Release(blob));
    }

    private static ReadOnlyMemory<char>? Blob(ITransformer key, ITransformer lookup)
    {
        var ml = new MLContext();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new EmptyRow() });
        try
        {
            data = lookup.Transform(key.Transform(data));
        }
        catch (ArgumentOutOfRangeException)
        {
            return null; // not our lookup after all
        }
        var column = data.Schema.GetColumnOrNull(SavedScoringChain.NetworkColumn);
        if (column is null || column.Value.Type is not TextDataViewType) return null;
        using var cursor = data.GetRowCursor([column.Value]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column.Value);
        ReadOnlyMemory<char> blob = default;
        if (!cursor.MoveNext()) return null;
        getter(ref blob);
        return blob;
    }

    /// <summary>A row with no column the network lookup reads; public for ML.NET's row binding.</summary>
    internal sealed class EmptyRow
    {
        /// <summary>Unused.</summary>
        [ColumnName(SavedScoringChain.TempPrefix + "probe")]
        public float Probe;
    }
}

/// <summary>An mHC object whose network can be freed, and which knows whether it was.</summary>
internal interface IReleasable
{
    bool IsReleased { get; }
}
