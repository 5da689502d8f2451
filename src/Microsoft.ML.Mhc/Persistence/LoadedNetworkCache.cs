using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Turns the serialized network a loaded model hands to its scoring mapping on every row into a live
/// network, decoding it once per model, and frees it when the model is released.
/// </summary>
/// <remarks>
/// The blob arrives per row as <see cref="ReadOnlyMemory{T}"/> over the one string held by the loaded
/// model's <c>MapValue</c> lookup, so that string instance identifies the model. A weak table keyed by
/// it lets the network die with the model when nobody releases it; <see cref="Release"/> (reached through
/// <see cref="SavedNetworks.Release"/>) frees it at once, and later use of that model throws
/// <see cref="ObjectDisposedException"/>. Blobs not backed by a whole string fall back to a content hash.
/// </remarks>
/// <typeparam name="TNetwork">The decoded, ready-to-score network.</typeparam>
internal sealed class LoadedNetworkCache<TNetwork> : ILoadedNetworkCache where TNetwork : class
{
    private readonly ConditionalWeakTable<object, TNetwork> byInstance = new();
    private readonly ConditionalWeakTable<object, object> released = new();
    private readonly Dictionary<string, WeakReference<TNetwork>> byHash = new(StringComparer.Ordinal);
    private readonly Func<SerializedNetwork, TNetwork> create;
    private readonly Action<TNetwork> dispose;
    private readonly string kind;
    private readonly object gate = new();

    /// <summary>
    /// Creates a cache that builds networks of <paramref name="kind"/> with <paramref name="create"/> and frees them
    /// with <paramref name="dispose"/>.
    /// </summary>
    public LoadedNetworkCache(string kind, Func<SerializedNetwork, TNetwork> create, Action<TNetwork> dispose)
    {
        this.kind = kind;
        this.create = create;
        this.dispose = dispose;
        SavedNetworks.Register(this);
    }

    /// <inheritdoc />
    public string Kind => kind;

    /// <summary>The network for this blob, decoded on first use (thread-safe).</summary>
    /// <exception cref="InvalidDataException">The blob is missing, foreign or damaged.</exception>
    /// <exception cref="ObjectDisposedException">The model carrying this blob was released.</exception>
    public TNetwork Get(ReadOnlyMemory<char> blob)
    {
        if (blob.IsEmpty)
            throw new InvalidDataException("The saved model carries no mHC network (its network column is empty).");
        if (WholeString(blob) is { } text)
        {
            if (byInstance.TryGetValue(text, out var hit)) return hit;
            lock (gate)
            {
                if (byInstance.TryGetValue(text, out hit)) return hit;
                if (released.TryGetValue(text, out _))
                    throw new ObjectDisposedException($"loaded mHC {kind} model",
                        $"This loaded mHC {kind} model was disposed, which freed its network; load it again to score with it.");
                var network = create(SerializedNetwork.Decode(blob.Span, kind));
                byInstance.Add(text, network);
                return network;
            }
        }
        var hash = Hash(blob);
        lock (gate)
        {
            if (byHash.TryGetValue(hash, out var weak) && weak.TryGetTarget(out var cached)) return cached;
            var network = create(SerializedNetwork.Decode(blob.Span, kind));
            byHash[hash] = new WeakReference<TNetwork>(network);
            return network;
        }
    }

    /// <summary>
    /// Frees the network decoded for this blob, if any. When the blob is a model's own string, that model then
    /// throws <see cref="ObjectDisposedException"/>; a hash-keyed network is only forgotten (other models with the
    /// same content may share it) and left to the garbage collector.
    /// </summary>
    /// <returns>Whether a network was freed.</returns>
    public bool Release(ReadOnlyMemory<char> blob)
    {
        if (WholeString(blob) is { } text)
        {
            TNetwork? network;
            lock (gate)
            {
                released.AddOrUpdate(text, text);
                if (!byInstance.TryGetValue(text, out network)) return false;
                byInstance.Remove(text);
            }
            dispose(network);
            return true;
        }
        lock (gate) byHash.Remove(Hash(blob));
        return false;
    }

    private static string? WholeString(ReadOnlyMemory<char> blob) =>
        MemoryMarshal.TryGetString(blob, out var text, out int start, out int length) && start == 0 && length == text.Length ? text : null;

    private static string Hash(ReadOnlyMemory<char> blob) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(MemoryMarshal.AsBytes(blob.Span)));
}
