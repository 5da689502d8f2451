using TorchSharp;
using TorchSharp.Modules;

namespace Mhc.Models.Onnx;

/// <summary>The ONNX nodes of the stock TorchSharp layers our networks use (Conv2d, ConvTranspose2d, BatchNorm2d, MaxPool2d, Linear, nearest resampling).</summary>
internal static class TorchLayerGraphs
{
    public static OnnxValue Conv(ModuleGraphExporter e, Conv2d conv, string path, OnnxValue x)
    {
        if (conv.transposed || conv.padding_type is not null || conv.padding_mode != PaddingModes.Zeros)
            throw ModuleGraphExporter.Unsupported(conv, path, "only zero-padded, explicitly padded, non-transposed convolutions are exported");
        if (x.Shape.Length != 4 || x.Shape[1] != conv.in_channels)
            throw new ArgumentException($"ONNX export: convolution '{path}' expects (B, {conv.in_channels}, H, W); got {x}.");
        var k = conv.kernel_size; var s = conv.stride; var p = conv.padding ?? [0, 0]; var d = conv.dilation;
        var inputs = new List<string> { x.Name, e.Weight(conv, path, "weight", conv.weight!) };
        if (conv.bias is not null) inputs.Add(e.Weight(conv, path, "bias", conv.bias));
        long Out(int axis) => (x.Shape[2 + axis] + 2 * p[axis] - d[axis] * (k[axis] - 1) - 1) / s[axis] + 1;
        var name = e.Ops.Graph.Node("Conv", ModuleGraphExporter.Hint(path, "conv"), inputs,
            ("kernel_shape", k), ("strides", s), ("pads", new[] { p[0], p[1], p[0], p[1] }), ("dilations", d), ("group", conv.groups));
        return new OnnxValue(name, [-1, conv.out_channels, Out(0), Out(1)]);
    }

    public static OnnxValue ConvTranspose(ModuleGraphExporter e, ConvTranspose2d conv, string path, OnnxValue x)
    {
        var k = conv.kernel_size; var s = conv.stride; var p = conv.padding ?? [0, 0]; var d = conv.dilation; var extra = conv.output_padding;
        if (conv.padding_type is not null || conv.padding_mode != PaddingModes.Zeros)
            throw ModuleGraphExporter.Unsupported(conv, path, "only zero-padded, explicitly padded transposed convolutions are exported");
        if (x.Shape.Length != 4 || x.Shape[1] != conv.in_channels)
            throw new ArgumentException($"ONNX export: transposed convolution '{path}' expects (B, {conv.in_channels}, H, W); got {x}.");
        var inputs = new List<string> { x.Name, e.Weight(conv, path, "weight", conv.weight!) };
        if (conv.bias is not null) inputs.Add(e.Weight(conv, path, "bias", conv.bias));
        long Out(int axis) => (x.Shape[2 + axis] - 1) * s[axis] - 2 * p[axis] + d[axis] * (k[axis] - 1) + extra[axis] + 1;
        var name = e.Ops.Graph.Node("ConvTranspose", ModuleGraphExporter.Hint(path, "conv_transpose"), inputs,
            ("kernel_shape", k), ("strides", s), ("pads", new[] { p[0], p[1], p[0], p[1] }), ("dilations", d), ("group", conv.groups),
            ("output_padding", extra));
        return new OnnxValue(name, [-1, conv.out_channels, Out(0), Out(1)]);
    }

    /// <summary>
    /// libtorch's nearest resampling of maps (B, C, H, W) to <paramref name="rows"/> x <paramref name="columns"/> as two
    /// Gathers with the indices it computes, min(floor(i * (float)in / out), in - 1): exact, where ONNX Resize's own
    /// coordinate arithmetic could round differently.
    /// </summary>
    public static OnnxValue Nearest(OnnxOps ops, OnnxValue x, long rows, long columns, string hint)
    {
        static long[] Indices(long input, long output)
        {
            if (input == output) return [];
            float scale = (float)input / output;
            return Enumerable.Range(0, (int)output).Select(i => Math.Min((long)MathF.Floor(i * scale), input - 1)).ToArray();
        }
        var rowIndices = Indices(x.Shape[2], rows);
        var columnIndices = Indices(x.Shape[3], columns);
        if (rowIndices.Length > 0) x = ops.Gather(x, 2, rowIndices, hint + "_rows");
        if (columnIndices.Length > 0) x = ops.Gather(x, 3, columnIndices, hint + "_columns");
        return x;
    }

    public static OnnxValue BatchNorm(ModuleGraphExporter e, BatchNorm2d bn, string path, OnnxValue x)
    {
        // Inference uses the running statistics; without them eval mode normalises by the batch, which a graph of
        // fixed weights cannot reproduce.
        if (!bn.track_running_stats || bn.running_mean is null || bn.running_var is null)
            throw ModuleGraphExporter.Unsupported(bn, path, "it keeps no running statistics");
        var g = e.Ops.Graph;
        long c = bn.num_features;
        string scale = bn.weight is null ? g.Filled(1f, c) : e.Weight(bn, path, "weight", bn.weight);
        string bias = bn.bias is null ? g.Filled(0f, c) : e.Weight(bn, path, "bias", bn.bias);
        var name = g.Node("BatchNormalization", ModuleGraphExporter.Hint(path, "bn"),
            [x.Name, scale, bias, e.Weight(bn, path, "running_mean", bn.running_mean), e.Weight(bn, path, "running_var", bn.running_var)],
            ("epsilon", bn.eps));
        return x with { Name = name };
    }

    public static OnnxValue MaxPool(ModuleGraphExporter e, MaxPool2d pool, string path, OnnxValue x)
    {
        var k = pool.kernel_size;
        var s = pool.stride ?? k;
        var p = pool.padding ?? [0, 0];
        var d = pool.dilation ?? [1, 1];
        if (p.Length == 1) p = [p[0], p[0]];
        if (s.Length == 1) s = [s[0], s[0]];
        if (d.Length == 1) d = [d[0], d[0]];
        long Out(int axis)
        {
            double size = (double)(x.Shape[2 + axis] + 2 * p[axis] - d[axis] * (k[axis] - 1) - 1) / s[axis] + 1;
            return (long)(pool.ceil_mode ? Math.Ceiling(size) : Math.Floor(size));
        }
        var name = e.Ops.Graph.Node("MaxPool", ModuleGraphExporter.Hint(path, "maxpool"), [x.Name],
            ("kernel_shape", k), ("strides", s), ("pads", new[] { p[0], p[1], p[0], p[1] }), ("dilations", d), ("ceil_mode", pool.ceil_mode ? 1L : 0L));
        return new OnnxValue(name, [-1, x.Shape[1], Out(0), Out(1)]);
    }

    public static OnnxValue Linear(ModuleGraphExporter e, Linear linear, string path, OnnxValue x)
    {
        if (x.Shape.Length != 2 || x.Shape[1] != linear.in_features)
            throw new ArgumentException($"ONNX export: linear layer '{path}' is exported for (B, {linear.in_features}) inputs; got {x}.");
        var inputs = new List<string> { x.Name, e.Weight(linear, path, "weight", linear.weight!) };
        if (linear.bias is not null) inputs.Add(e.Weight(linear, path, "bias", linear.bias));
        var name = e.Ops.Graph.Node("Gemm", ModuleGraphExporter.Hint(path, "gemm"), inputs, ("transB", 1L));
        return new OnnxValue(name, [-1, linear.out_features]);
    }
}
