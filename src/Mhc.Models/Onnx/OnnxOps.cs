namespace Mhc.Models.Onnx;

/// <summary>
/// Shape-tracking wrappers over the opset-17 operators the exporter uses. Every value keeps a dynamic batch axis 0
/// (-1) and known other axes; reshapes therefore always write -1 for axis 0 and the known rest.
/// </summary>
public sealed class OnnxOps
{
    /// <summary>Wraps <paramref name="graph"/>.</summary>
    public OnnxOps(OnnxGraphBuilder graph) => Graph = graph ?? throw new ArgumentNullException(nameof(graph));

    /// <summary>The graph the nodes go to.</summary>
    public OnnxGraphBuilder Graph { get; }

    /// <summary>An element-wise unary operator (Relu, Sigmoid, Tanh, Exp, Sqrt, Reciprocal).</summary>
    public OnnxValue Unary(string op, OnnxValue x, string hint) => new(Graph.Node(op, hint, [x.Name]), x.Shape);

    /// <summary>An element-wise binary operator with numpy broadcasting (Add, Sub, Mul, Div).</summary>
    public OnnxValue Binary(string op, OnnxValue a, OnnxValue b, string hint) =>
        new(Graph.Node(op, hint, [a.Name, b.Name]), Broadcast(a.Shape, b.Shape));

    /// <summary>An element-wise binary operator with a constant or weight of <paramref name="shape"/> (no batch axis).</summary>
    public OnnxValue Binary(string op, OnnxValue a, string constant, long[] shape, string hint) =>
        new(Graph.Node(op, hint, [a.Name, constant]), Broadcast(a.Shape, shape));

    /// <summary>The same with the constant first (constant op a).</summary>
    public OnnxValue Binary(string op, string constant, long[] shape, OnnxValue a, string hint) =>
        new(Graph.Node(op, hint, [constant, a.Name]), Broadcast(shape, a.Shape));

    /// <summary>Reshape to [-1, <paramref name="sampleShape"/>...].</summary>
    public OnnxValue Reshape(OnnxValue x, string hint, params long[] sampleShape)
    {
        if (sampleShape.Any(d => d < 1))
            throw new ArgumentException($"Reshape of {x} needs known sizes after the batch axis; got [{string.Join(", ", sampleShape)}].");
        return new(Graph.Node("Reshape", hint, [x.Name, Graph.Int64s([-1, .. sampleShape])]), [-1, .. sampleShape]);
    }

    /// <summary>
    /// Reshape to the shape held by the int64 graph value <paramref name="shapeTensor"/> (for targets with more than one
    /// dynamic axis, built at run time); <paramref name="shape"/> is what the result is tracked as (-1: dynamic).
    /// </summary>
    public OnnxValue ReshapeTo(OnnxValue x, string shapeTensor, long[] shape, string hint) =>
        new(Graph.Node("Reshape", hint, [x.Name, shapeTensor]), shape);

    /// <summary>The entries <paramref name="indices"/> (an int64 constant vector) of <paramref name="axis"/>.</summary>
    public OnnxValue Gather(OnnxValue x, long axis, long[] indices, string hint)
    {
        var shape = (long[])x.Shape.Clone();
        shape[Axes(x, [axis])[0]] = indices.Length;
        return new(Graph.Node("Gather", hint, [x.Name, Graph.Int64s(indices)], ("axis", axis)), shape);
    }

    /// <summary>Concatenation along <paramref name="axis"/>; the sizes there add up (-1 when one is dynamic).</summary>
    public OnnxValue Concat(OnnxValue a, OnnxValue b, long axis, string hint)
    {
        var shape = (long[])a.Shape.Clone();
        int i = Axes(a, [axis])[0];
        shape[i] = a.Shape[i] < 0 || b.Shape[i] < 0 ? -1 : a.Shape[i] + b.Shape[i];
        return new(Graph.Node("Concat", hint, [a.Name, b.Name], ("axis", axis)), shape);
    }

    /// <summary>Transpose by <paramref name="perm"/>, which keeps the batch axis first.</summary>
    public OnnxValue Transpose(OnnxValue x, string hint, params long[] perm)
    {
        if (perm[0] != 0 && x.Shape[0] == -1) throw new ArgumentException("The batch axis must stay first.", nameof(perm));
        return new(Graph.Node("Transpose", hint, [x.Name], ("perm", perm)), perm.Select(p => x.Shape[p]).ToArray());
    }

    /// <summary>MatMul with numpy broadcasting of the leading axes.</summary>
    public OnnxValue MatMul(OnnxValue a, OnnxValue b, string hint)
    {
        long[] lead = Broadcast(a.Shape[..^2], b.Shape[..^2]);
        return new(Graph.Node("MatMul", hint, [a.Name, b.Name]), [.. lead, a.Shape[^2], b.Shape[^1]]);
    }

    /// <summary>A reduction whose axes are an attribute at opset 17 (ReduceMean, ReduceMax, ReduceLogSumExp).</summary>
    public OnnxValue Reduce(string op, OnnxValue x, string hint, bool keepDims, params long[] axes)
    {
        var norm = Axes(x, axes);
        return new(Graph.Node(op, hint, [x.Name], ("axes", axes), ("keepdims", keepDims ? 1L : 0L)), Reduced(x.Shape, norm, keepDims));
    }

    /// <summary>ReduceSum, whose axes are an input since opset 13.</summary>
    public OnnxValue ReduceSum(OnnxValue x, string hint, bool keepDims, params long[] axes)
    {
        var norm = Axes(x, axes);
        return new(Graph.Node("ReduceSum", hint, [x.Name, Graph.Int64s(axes)], ("keepdims", keepDims ? 1L : 0L)), Reduced(x.Shape, norm, keepDims));
    }

    /// <summary>Elements <paramref name="start"/> to <paramref name="end"/> (exclusive) of <paramref name="axis"/>.</summary>
    public OnnxValue Slice(OnnxValue x, long axis, long start, long end, string hint)
    {
        var shape = (long[])x.Shape.Clone();
        shape[Axes(x, [axis])[0]] = end - start;
        return new(Graph.Node("Slice", hint, [x.Name, Graph.Int64s(start), Graph.Int64s(end), Graph.Int64s(axis)]), shape);
    }

    /// <summary>Index <paramref name="index"/> of <paramref name="axis"/> (the axis disappears).</summary>
    public OnnxValue Select(OnnxValue x, long axis, long index, string hint)
    {
        int a = Axes(x, [axis])[0];
        var shape = x.Shape.Where((_, i) => i != a).ToArray();
        return new(Graph.Node("Gather", hint, [x.Name, Graph.Int64Scalar(index)], ("axis", axis)), shape);
    }

    /// <summary>A new axis of size one at <paramref name="axis"/>.</summary>
    public OnnxValue Unsqueeze(OnnxValue x, long axis, string hint)
    {
        int a = (int)(axis < 0 ? axis + x.Shape.Length + 1 : axis);
        var shape = x.Shape.ToList();
        shape.Insert(a, 1);
        return new(Graph.Node("Unsqueeze", hint, [x.Name, Graph.Int64s(axis)]), shape.ToArray());
    }

    /// <summary>Softmax along one axis (opset 13+ semantics).</summary>
    public OnnxValue Softmax(OnnxValue x, long axis, string hint) => new(Graph.Node("Softmax", hint, [x.Name], ("axis", axis)), x.Shape);

    /// <summary>Multiplies by a float constant.</summary>
    public OnnxValue Scale(OnnxValue x, float factor, string hint) => Binary("Mul", x, Graph.Float(factor), [], hint);

    /// <summary>Adds a float constant.</summary>
    public OnnxValue Shift(OnnxValue x, float offset, string hint) => Binary("Add", x, Graph.Float(offset), [], hint);

    private static int[] Axes(OnnxValue x, long[] axes) => axes.Select(a => (int)(a < 0 ? a + x.Shape.Length : a)).ToArray();

    private static long[] Reduced(long[] shape, int[] axes, bool keepDims) =>
        keepDims ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray() : shape.Where((_, i) => !axes.Contains(i)).ToArray();

    /// <summary>Numpy broadcasting of two shapes; -1 (the batch) wins over 1.</summary>
    public static long[] Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long x = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            long y = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (x == -1 || y == -1) result[i] = -1;
            else if (x == y || y == 1) result[i] = x;
            else if (x == 1) result[i] = y;
            else throw new ArgumentException($"Shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}] do not broadcast.");
        }
        return result;
    }
}
