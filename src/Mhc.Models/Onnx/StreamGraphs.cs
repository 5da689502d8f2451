using Mhc.Models.Layers;

namespace Mhc.Models.Onnx;

/// <summary>
/// The stream plumbing of a hyper-connected network (HC sec. 2, mHC sec. 3): expand the embedding into n streams,
/// thread them through the layers, collapse them before the head.
/// </summary>
internal static class StreamGraphs
{
    public static OnnxValue Sequential(ModuleGraphExporter e, HyperSequential stack, string path, OnnxValue x)
    {
        var h = Expand(e, stack.Expand, ModuleGraphExporter.Join(path, "expand"), x);
        for (int i = 0; i < stack.Layers.Count; i++)
            h = e.Export(stack.Layers[i], ModuleGraphExporter.Join(path, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), h);
        return Collapse(e, stack.Collapse, ModuleGraphExporter.Join(path, "collapse"), h);
    }

    /// <summary>(B, *features) to (B, n, *features): n copies of the embedding.</summary>
    public static OnnxValue Expand(ModuleGraphExporter e, StreamExpand expand, string path, OnnxValue x)
    {
        var single = e.Ops.Unsqueeze(x, 1, ModuleGraphExporter.Hint(path, "unsqueeze"));
        long[] target = [1, expand.Streams, .. Enumerable.Repeat(1L, x.Shape.Length - 1)];
        var name = e.Ops.Graph.Node("Expand", ModuleGraphExporter.Hint(path, "expand"), [single.Name, e.Ops.Graph.Int64s(target)]);
        return new OnnxValue(name, [-1, expand.Streams, .. x.SampleShape]);
    }

    /// <summary>(B, n, *features) to (B, *features): mean, sum or learned weights over the streams.</summary>
    public static OnnxValue Collapse(ModuleGraphExporter e, StreamCollapse collapse, string path, OnnxValue x)
    {
        CheckStreams(collapse, path, x, collapse.Streams);
        var hint = ModuleGraphExporter.Hint(path, "collapse");
        switch (collapse.Mode)
        {
            case StreamCollapseMode.Mean: return e.Ops.Reduce("ReduceMean", x, hint, keepDims: false, 1);
            case StreamCollapseMode.Sum: return e.Ops.ReduceSum(x, hint, keepDims: false, 1);
            default:
                var weights = ModuleGraphExporter.Tensor(collapse, "weights") ?? throw ModuleGraphExporter.Unsupported(collapse, path, "learned collapse without weights");
                long[] shape = [collapse.Streams, .. Enumerable.Repeat(1L, x.Shape.Length - 2)];
                var w = e.Ops.Graph.Node("Reshape", ModuleGraphExporter.Hint(path, "weights"),
                    [e.Weight(collapse, path, "weights", weights), e.Ops.Graph.Int64s(shape)]);
                var weighted = e.Ops.Binary("Mul", x, w, shape, ModuleGraphExporter.Hint(path, "weighted"));
                return e.Ops.ReduceSum(weighted, hint, keepDims: false, 1);
        }
    }

    /// <summary>A single-stream module on each stream: (B, n, ...) folded to (B n, ...) and back.</summary>
    public static OnnxValue PerStream(ModuleGraphExporter e, PerStream perStream, string path, OnnxValue x) =>
        PerStream(e, perStream, "inner", path, x);

    /// <summary>
    /// The child <paramref name="inner"/> of <paramref name="module"/> on each stream (PerStream, StreamwiseUpsample):
    /// (B, n, ...) folded to (B n, ...) and back.
    /// </summary>
    public static OnnxValue PerStream(ModuleGraphExporter e, TorchSharp.torch.nn.Module module, string inner, string path, OnnxValue x)
    {
        if (x.Shape.Length < 3) throw new ArgumentException($"ONNX export: '{path}' ({module.GetType().Name}) expects streams (B, n, *features); got {x}.");
        long n = x.Shape[1];
        var folded = e.Ops.Reshape(x, ModuleGraphExporter.Hint(path, "fold"), x.Shape[2..]);
        var y = e.ExportChild(module, path, inner, folded);
        return e.Ops.Reshape(y, ModuleGraphExporter.Hint(path, "unfold"), [n, .. y.SampleShape]);
    }

    public static void CheckStreams(TorchSharp.torch.nn.Module module, string path, OnnxValue x, long n)
    {
        if (x.Shape.Length < 3 || x.Shape[1] != n)
            throw new ArgumentException($"ONNX export: '{path}' ({module.GetType().Name}) expects streams (B, {n}, *features); got {x}.");
    }
}
