using static TorchSharp.torch;

namespace Mhc.Models.Transformers;

/// <summary>
/// Keys and values of one attention layer for the positions decoded so far, in a buffer preallocated to
/// the context length, so that appending a token writes in place instead of re-concatenating.
/// </summary>
public sealed class LayerKeyValueCache : IDisposable
{
    private Tensor? keys;     // (B, H, capacity, D)
    private Tensor? values;

    internal LayerKeyValueCache(int capacity) => Capacity = capacity;

    /// <summary>Positions the buffers can hold.</summary>
    public int Capacity { get; }

    /// <summary>Positions held.</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Appends keys and values of the new positions, (B, H, T, D) each, and returns views of all held
    /// positions, (B, H, Length, D).
    /// </summary>
    internal (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        long t = k.shape[2];
        if (Length + t > Capacity)
            throw new InvalidOperationException(
                $"The key/value cache holds {Length} of {Capacity} positions and cannot take {t} more; reset it or start a new window.");
        bool fits = keys is not null && keys.shape[0] == k.shape[0] && keys.shape[1] == k.shape[1] && keys.shape[3] == k.shape[3]
            && keys.device_type == k.device_type && keys.device_index == k.device_index && keys.dtype == k.dtype;
        if (!fits && Length > 0)
            throw new InvalidOperationException(
                $"The cache holds positions of a batch of {keys!.shape[0]} ({keys.dtype} on {keys.device_type}); got a batch of {k.shape[0]} ({k.dtype} on {k.device_type}). Reset it first.");
        if (!fits)
        {
            // First append after creation or a reset with another batch size, device or dtype.
            keys?.Dispose();
            values?.Dispose();
            keys = zeros(new[] { k.shape[0], k.shape[1], Capacity, k.shape[3] }, dtype: k.dtype, device: k.device).DetachFromDisposeScope();
            values = zeros(new[] { v.shape[0], v.shape[1], Capacity, v.shape[3] }, dtype: v.dtype, device: v.device).DetachFromDisposeScope();
        }
        using (no_grad())
        {
            keys!.narrow(2, Length, t).copy_(k);
            values!.narrow(2, Length, t).copy_(v);
        }
        Length += (int)t;
        return (keys!.narrow(2, 0, Length), values!.narrow(2, 0, Length));
    }

    /// <summary>Forgets every position (the buffers are kept for reuse).</summary>
    public void Reset() => Length = 0;

    /// <inheritdoc />
    public void Dispose()
    {
        keys?.Dispose();
        values?.Dispose();
        keys = values = null;
        Length = 0;
    }
}

/// <summary>
/// The incremental-decoding state of a <see cref="HyperDecoderTransformer"/>: per-layer keys and values
/// of every position decoded so far. Streams are not cached: each hyper-connection mixes streams per
/// token, so only the new positions' streams are ever computed.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly LayerKeyValueCache[] layers;

    /// <summary>Creates an empty cache for <paramref name="layers"/> attention layers of <paramref name="capacity"/> positions.</summary>
    public KeyValueCache(int layers, int capacity)
    {
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, "At least one layer.");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "At least one position.");
        this.layers = Enumerable.Range(0, layers).Select(_ => new LayerKeyValueCache(capacity)).ToArray();
        Capacity = capacity;
    }

    /// <summary>Positions the cache can hold (the model's context length).</summary>
    public int Capacity { get; }

    /// <summary>Positions decoded so far (the position index of the next token).</summary>
    public int Length => layers[0].Length;

    /// <summary>The cache of attention layer <paramref name="layer"/>.</summary>
    public LayerKeyValueCache this[int layer] => layers[layer];

    /// <summary>Number of layers.</summary>
    public int Layers => layers.Length;

    /// <summary>Forgets every position, keeping the buffers.</summary>
    public void Reset()
    {
        foreach (var l in layers) l.Reset();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var l in layers) l.Dispose();
    }
}
