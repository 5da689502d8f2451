namespace Mhc.Models.Onnx;

/// <summary>
/// What the attention layers of an exported transformer need beyond their token rows (B T, C): how to see the rows
/// as sequences (B, T, C), and, for a decoder exported for incremental decoding, the past keys and values of every
/// layer and the causal mask over past and new positions.
/// </summary>
/// <remarks>
/// The transformer trunk is exported on token rows, the layout <c>HyperSequential.ForwardTokenRows</c> runs it in:
/// the per-token stream mixing (mHC eq. 5-9) then needs no layout change, and only attention regroups the rows
/// by sequence. A vision transformer has a fixed token count (its patches); a decoder's is known at run time only.
/// </remarks>
internal sealed class TokenSequence
{
    private readonly long length;
    private readonly string? batchAndLength;
    private readonly IReadOnlyList<(OnnxValue Keys, OnnxValue Values)>? past;
    private readonly Dictionary<string, string> shapes = new(StringComparer.Ordinal);
    private string? mask;
    private string? positions;
    private int layer;

    private TokenSequence(long length, string? batchAndLength, IReadOnlyList<(OnnxValue, OnnxValue)>? past)
    {
        this.length = length;
        this.batchAndLength = batchAndLength;
        this.past = past;
    }

    /// <summary>Sequences of <paramref name="tokens"/> tokens each (a vision transformer's patches); no cache.</summary>
    public static TokenSequence Fixed(long tokens) => new(tokens, null, null);

    /// <summary>
    /// Sequences whose batch and length are the int64 graph value <paramref name="batchAndLength"/> ([B, T]), with
    /// the past keys and values (B, H, P, D) of every attention layer in depth order.
    /// </summary>
    public static TokenSequence Cached(string batchAndLength, IReadOnlyList<(OnnxValue Keys, OnnxValue Values)> past) =>
        new(-1, batchAndLength, past);

    /// <summary>The keys and values (B, H, P + T, D) of every layer exported so far, in depth order: the graph's present outputs.</summary>
    public List<(OnnxValue Keys, OnnxValue Values)> Present { get; } = [];

    /// <summary>Rows (B T, *) regrouped as (B, T, <paramref name="tail"/>).</summary>
    public OnnxValue ToSequences(OnnxOps ops, OnnxValue rows, long[] tail, string hint)
    {
        if (batchAndLength is null) return ops.Reshape(rows, hint, [length, .. tail]);
        var key = string.Join(",", tail);
        if (!shapes.TryGetValue(key, out var shape))
            shapes[key] = shape = ops.Graph.Node("Concat", "sequence_shape", [batchAndLength, ops.Graph.Int64s(tail)], ("axis", 0L));
        return ops.ReshapeTo(rows, shape, [-1, -1, .. tail], hint);
    }

    /// <summary>
    /// Prepends the next layer's past keys and values to the new ones (B, H, T, D) and records the results as that
    /// layer's present; without a cache, returns them unchanged.
    /// </summary>
    public (OnnxValue Keys, OnnxValue Values) Append(OnnxOps ops, OnnxValue keys, OnnxValue values, string path)
    {
        if (past is null) return (keys, values);
        if (layer >= past.Count)
            throw new InvalidOperationException($"ONNX export: attention '{path}' is layer {layer + 1}, but the graph has past keys and values for {past.Count}.");
        var (pastKeys, pastValues) = past[layer++];
        var all = (ops.Concat(pastKeys, keys, 2, ModuleGraphExporter.Hint(path, "keys")), ops.Concat(pastValues, values, 2, ModuleGraphExporter.Hint(path, "values")));
        Present.Add(all);
        return all;
    }

    /// <summary>
    /// The causal mask (T, P + T), true where query i (position P + i) may see key j, that is j &lt;= P + i: the
    /// bottom-right aligned mask of attention with a cache (top-left, the usual one, when P = 0). Built once.
    /// </summary>
    public string CausalMask(OnnxOps ops)
    {
        if (mask is not null) return mask;
        var g = ops.Graph;
        string pastLength, newLength;
        if (past is { Count: > 0 })
        {
            var keysShape = g.Node("Shape", "past_shape", [past[0].Keys.Name]);
            pastLength = g.Node("Gather", "past_length", [keysShape, g.Int64Scalar(2)], ("axis", 0L));
        }
        else
        {
            pastLength = g.Int64Scalar(0);
        }
        newLength = batchAndLength is null ? g.Int64Scalar(length) : g.Node("Gather", "new_length", [batchAndLength, g.Int64Scalar(1)], ("axis", 0L));
        var total = g.Node("Add", "total_length", [pastLength, newLength]);
        positions = g.Node("Range", "query_positions", [pastLength, total, g.Int64Scalar(1)]);
        var keys = g.Node("Range", "key_positions", [g.Int64Scalar(0), total, g.Int64Scalar(1)]);
        var column = g.Node("Unsqueeze", "query_column", [positions, g.Int64s(1)]);
        return mask = g.Node("LessOrEqual", "causal_mask", [keys, column]);
    }

    /// <summary>The position of every new token, P .. P + T - 1 (int64, T), for the position embedding.</summary>
    public string Positions(OnnxOps ops)
    {
        CausalMask(ops);
        return positions!;
    }
}
