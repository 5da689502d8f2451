using Mhc.Models.Transformers;
using Onnx;

namespace Mhc.Models.Onnx;

/// <summary>
/// Writes a <see cref="HyperDecoderTransformer"/> as one ONNX model (opset 17, IR 8) for incremental decoding in ONNX
/// Runtime: the new token ids and every layer's past keys and values in, the new positions' logits and the
/// presents (past and new keys and values) out. The first call passes the prompt with empty pasts (past length 0);
/// each later call passes the one sampled token with the previous call's presents as pasts.
/// </summary>
/// <remarks>
/// Axes: batch, sequence (new tokens T) and past (P) are dynamic; P + T must stay within the context length
/// (the position embedding has that many rows). The graph computes what
/// <see cref="HyperDecoderTransformer.Forward(TorchSharp.torch.Tensor, KeyValueCache)"/> computes with a cache holding
/// the past: positions P .. P + T - 1, and query i sees keys 0 .. P + i. Initializers are named after the state_dict keys.
/// </remarks>
public static class DecoderOnnxExport
{
    /// <summary>Input: token ids, int64 (batch, sequence).</summary>
    public const string InputIds = "input_ids";

    /// <summary>Output: next-token logits, float32 (batch, sequence, vocabulary).</summary>
    public const string Logits = "logits";

    /// <summary>Input: keys of the positions decoded so far in attention layer <paramref name="layer"/>, float32 (batch, heads, past, head width).</summary>
    public static string PastKeys(int layer) => $"past_key_{layer}";

    /// <summary>Input: values of the positions decoded so far in layer <paramref name="layer"/> (as <see cref="PastKeys"/>).</summary>
    public static string PastValues(int layer) => $"past_value_{layer}";

    /// <summary>Output: keys of layer <paramref name="layer"/> for past and new positions, float32 (batch, heads, past + sequence, head width).</summary>
    public static string PresentKeys(int layer) => $"present_key_{layer}";

    /// <summary>Output: values of layer <paramref name="layer"/> for past and new positions (as <see cref="PresentKeys"/>).</summary>
    public static string PresentValues(int layer) => $"present_value_{layer}";

    /// <summary>Writes <paramref name="network"/> to <paramref name="stream"/> (left open), with <paramref name="metadata"/> as the model's metadata.</summary>
    /// <exception cref="NotSupportedException">A layer cannot be exported (the message names it); nothing is written.</exception>
    public static void Write(HyperDecoderTransformer network, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        var graph = new OnnxGraphBuilder("mhc_decoder");
        var exporter = new ModuleGraphExporter(graph, network);
        var ops = exporter.Ops;
        var t = network.Options.Transformer;
        long heads = t.Heads, width = t.Dim / t.Heads, vocabulary = network.Options.VocabSize;

        var ids = graph.Input(InputIds, TensorProto.Types.DataType.Int64, "batch", "sequence");
        var past = Enumerable.Range(0, t.Layers).Select(i => (
            graph.Input(PastKeys(i), TensorProto.Types.DataType.Float, "batch", heads, "past", width),
            graph.Input(PastValues(i), TensorProto.Types.DataType.Float, "batch", heads, "past", width))).ToList();
        var sequence = TokenSequence.Cached(graph.Node("Shape", "batch_and_length", [ids.Name]), past);

        // Token and position embeddings (B, T, C) + (T, C), then the token rows (B T, C) the trunk runs on.
        var tokens = Embed(exporter, network, "token_embedding", ids.Name, [-1, -1, t.Dim]);
        var positions = Embed(exporter, network, "position_embedding", sequence.Positions(ops), [-1, t.Dim]);
        var rows = ops.Reshape(ops.Binary("Add", tokens, positions, "embedded"), "rows", t.Dim);
        var h = exporter.WithSequence(sequence, () => exporter.ExportChild(network, "", "blocks", rows));
        h = exporter.ExportChild(network, "", "final_norm", h);
        var logits = ModuleGraphExporter.Child(network, "head") is not null
            ? exporter.ExportChild(network, "", "head", h)
            : TiedHead(exporter, network, h);
        if (sequence.Present.Count != t.Layers)
            throw new InvalidOperationException($"ONNX export: the decoder has {t.Layers} layers but {sequence.Present.Count} attention layers were exported.");

        graph.Output(sequence.ToSequences(ops, logits, [vocabulary], "logits_sequences"), Logits, "batch", "sequence", vocabulary);
        for (int i = 0; i < t.Layers; i++)
        {
            graph.Output(sequence.Present[i].Keys, PresentKeys(i), "batch", heads, "total", width);
            graph.Output(sequence.Present[i].Values, PresentValues(i), "batch", heads, "total", width);
        }
        graph.Metadata("mhc.context_length", network.Options.ContextLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        graph.Metadata("mhc.layers", t.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>()) graph.Metadata(key, value);
        graph.WriteTo(stream, "Mhc.Models",
            $"mHC decoder ({t.Layers} layers, width {t.Dim}, {t.Heads} heads, vocabulary {vocabulary}, context {network.Options.ContextLength}). " +
            $"Inputs '{InputIds}' (batch, sequence) int64 and past_key_i / past_value_i (batch, {heads}, past, {width}); " +
            $"outputs '{Logits}' (batch, sequence, {vocabulary}) and present_key_i / present_value_i (batch, {heads}, past + sequence, {width}).");
    }

    // Embedding(weight).forward(ids): the rows of the table.
    private static OnnxValue Embed(ModuleGraphExporter e, HyperDecoderTransformer network, string name, string ids, long[] shape)
    {
        var embedding = ModuleGraphExporter.Child(network, name) ?? throw ModuleGraphExporter.Unsupported(network, "", $"it has no child '{name}'");
        var table = ModuleGraphExporter.Tensor(embedding, "weight") ?? throw ModuleGraphExporter.Unsupported(embedding, name, "it has no weight");
        return new OnnxValue(e.Ops.Graph.Node("Gather", ModuleGraphExporter.Hint(name, "lookup"), [e.Weight(embedding, name, "weight", table), ids], ("axis", 0L)), shape);
    }

    // Tied embeddings: logits = h E^T with the token table E (V, C).
    private static OnnxValue TiedHead(ModuleGraphExporter e, HyperDecoderTransformer network, OnnxValue h)
    {
        var embedding = ModuleGraphExporter.Child(network, "token_embedding")!;
        var table = ModuleGraphExporter.Tensor(embedding, "weight")!;
        var name = e.Ops.Graph.Node("Gemm", "tied_head", [h.Name, e.Weight(embedding, "token_embedding", "weight", table)], ("transB", 1L));
        return new OnnxValue(name, [-1, network.Options.VocabSize]);
    }
}
