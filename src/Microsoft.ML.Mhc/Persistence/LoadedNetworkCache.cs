using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Turns the serialized network a loaded model hands to its scoring mapping on every row into a live
/// network, decoding it once per model.
/// </summary>
/// <remarks>
/// The blob arrives per row as <see cref="ReadOnlyMemory{T}"/> over the one string held by the loaded
/// model's <c>MapValue</c> lookup, so that string instance identifies the model. A weak table keyed by
/// it lets the network die with the model. Blobs not backed by a string fall back to a content hash.
/// </remarks>
/// <typeparam name="TNetwork">The decoded, ready-to-score network.</typeparam>
public sealed class LoadedNetworkCache<TNetwork> where TNetwork : class
{
    private readonly ConditionalWeakTable<object, TNetwork> byInstance = new();
    private readonly Dictionary<string, WeakReference<TNetwork>> byHash = new(StringComparer.Ordinal);
    private readonly Func<SerializedNetwork, TNetwork> create;
    private readonly string kind;
    private readonly object gate = new();

    /// <summary>Creates a cache that builds networks of <paramref name="kind"/> with <paramref name="create"/>.</summary>
    public LoadedNetworkCache(string kind, Func<SerializedNetwork, TNetwork> create)
    {
        this.kind = kind;
        this.create = create;
    }

    /// <summary>The network for this blob, decoded on first use (thread-safe).</summary>
    /// <exception cref="InvalidDataException">The blob is missing, foreign or damaged.</exception>
    public TNetwork Get(ReadOnlyMemory<char> blob)
    {
        if (blob.IsEmpty)
            throw new InvalidDataException("The saved model carries no mHC network (its network column is empty).");
        if (MemoryMarshal.TryGetString(blob, out var text, out int start, out int length) && start == 0 && length == text.Length)
        {
            if (byInstance.TryGetValue(text, out var hit)) return hit;
            lock (gate)
            {
                if (byInstance.TryGetValue(text, out hit)) return hit;
                var network = create(SerializedNetwork.Decode(blob.Span, kind));
                byInstance.Add(text, network);
                return network;
            }
        }
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(MemoryMarshal.AsBytes(blob.Span)));
        lock (gate)
        {
            if (byHash.TryGetValue(hash, out var weak) && weak.TryGetTarget(out var cached)) return cached;
            var network = create(SerializedNetwork.Decode(blob.Span, kind));
            byHash[hash] = new WeakReference<TNetwork>(network);
            return network;
        }
    }
}
