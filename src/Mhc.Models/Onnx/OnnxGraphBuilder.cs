using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Mhc.Models.Onnx;

/// <summary>
/// Collects the nodes, initializers, inputs and outputs of one ONNX graph (opset 17, IR version 8) and writes the
/// model. Node outputs get unique names from the layer path that made them, so a graph reads like the network.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The operator set the graph is written for.</summary>
    public const long Opset = 17;

    /// <summary>The ONNX IR version written (the one that goes with opset 17).</summary>
    public const long IrVersion = 8;

    private readonly GraphProto graph = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> constants = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> metadata = new(StringComparer.Ordinal);

    /// <summary>Starts a graph called <paramref name="name"/>.</summary>
    public OnnxGraphBuilder(string name) => graph.Name = name;

    /// <summary>Declares a float input with a dynamic batch axis; the value it names.</summary>
    public OnnxValue Input(string name, params long[] sampleShape)
    {
        Claim(name);
        graph.Input.Add(ValueInfo(name, sampleShape));
        return new OnnxValue(name, [-1, .. sampleShape]);
    }

    /// <summary>
    /// Declares an input of element type <paramref name="type"/> whose axes are <paramref name="axes"/>: a string is a
    /// named dynamic axis ("batch", "sequence"), a long a fixed size. The value it names has -1 for every dynamic axis.
    /// </summary>
    public OnnxValue Input(string name, TensorProto.Types.DataType type, params object[] axes)
    {
        Claim(name);
        graph.Input.Add(ValueInfo(name, type, axes));
        return new OnnxValue(name, axes.Select(a => a is long d ? d : -1L).ToArray());
    }

    /// <summary>Declares <paramref name="value"/> a graph output called <paramref name="name"/> (an Identity when the names differ).</summary>
    public void Output(OnnxValue value, string name) => Output(value, name, ["batch", .. value.SampleShape.Cast<object>()]);

    /// <summary>Declares <paramref name="value"/> a float output called <paramref name="name"/> with the axes of <see cref="Input(string, TensorProto.Types.DataType, object[])"/>.</summary>
    public void Output(OnnxValue value, string name, params object[] axes) => Output(value, name, TensorProto.Types.DataType.Float, axes);

    /// <summary>Declares <paramref name="value"/> an output of element type <paramref name="type"/> called <paramref name="name"/>.</summary>
    public void Output(OnnxValue value, string name, TensorProto.Types.DataType type, params object[] axes)
    {
        if (value.Name != name)
        {
            Claim(name);
            graph.Node.Add(NewNode("Identity", name, [value.Name], [name]));
        }
        graph.Output.Add(ValueInfo(name, type, axes));
    }

    /// <summary>A key/value pair of the model's metadata (read back with ONNX Runtime's <c>ModelMetadata.CustomMetadataMap</c>).</summary>
    public void Metadata(string key, string value) => metadata[key] = value;

    /// <summary>
    /// Adds a float32 initializer named <paramref name="name"/> (a state_dict key) holding <paramref name="tensor"/>
    /// (copied to the CPU); returns the name.
    /// </summary>
    /// <exception cref="NotSupportedException">The tensor is not float32.</exception>
    public string Initializer(string name, Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Float32)
            throw new NotSupportedException($"ONNX export writes float32 weights; '{name}' is {tensor.dtype}. Convert the network with .to(float32) first.");
        if (names.Contains(name)) return name;
        Claim(name);
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(cpu.bytes) };
        proto.Dims.AddRange(cpu.shape);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A constant int64 vector (axes, shapes, slice bounds), shared between nodes that need the same one.</summary>
    public string Int64s(params long[] values)
    {
        var key = "i64:" + string.Join(",", values);
        if (constants.TryGetValue(key, out var existing)) return existing;
        var name = Unique("const_i64");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return constants[key] = name;
    }

    /// <summary>A constant int64 scalar (a Gather index).</summary>
    public string Int64Scalar(long value)
    {
        var key = "i64s:" + value;
        if (constants.TryGetValue(key, out var existing)) return existing;
        var name = Unique("const_i64s");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Int64Data.Add(value);
        graph.Initializer.Add(proto);
        return constants[key] = name;
    }

    /// <summary>A constant float32 scalar (broadcasts against any tensor).</summary>
    public string Float(float value)
    {
        var key = "f32:" + BitConverter.SingleToInt32Bits(value);
        if (constants.TryGetValue(key, out var existing)) return existing;
        var name = Unique("const_f32");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add(value);
        graph.Initializer.Add(proto);
        return constants[key] = name;
    }

    /// <summary>A constant float32 vector.</summary>
    public string Floats(params float[] values)
    {
        var name = Unique("const_f32v");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.Add(values.Length);
        proto.FloatData.AddRange(values);
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A constant float32 tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public string Filled(float value, params long[] shape)
    {
        var name = Unique("const_fill");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(shape);
        proto.FloatData.AddRange(Enumerable.Repeat(value, (int)shape.Aggregate(1L, (a, d) => a * d)));
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>
    /// Adds a node with one output, named after <paramref name="hint"/> (made unique); returns the output name.
    /// Attribute values may be long, float, long[] or float[].
    /// </summary>
    public string Node(string op, string hint, IEnumerable<string> inputs, params (string Name, object Value)[] attributes)
    {
        var output = Unique(hint);
        graph.Node.Add(NewNode(op, output, inputs, [output], attributes));
        return output;
    }

    /// <summary>Writes the model (opset 17, IR 8) to <paramref name="stream"/>, leaving it open.</summary>
    public void WriteTo(Stream stream, string producer, string docString)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = producer,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = docString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        model.WriteTo(stream);
    }

    /// <summary>The graph's initializer names (state_dict keys and constants).</summary>
    public IEnumerable<string> InitializerNames => graph.Initializer.Select(i => i.Name);

    private string Unique(string hint)
    {
        var name = hint;
        for (int k = 1; names.Contains(name); k++) name = $"{hint}_{k}";
        names.Add(name);
        return name;
    }

    private void Claim(string name)
    {
        if (!names.Add(name)) throw new InvalidOperationException($"The ONNX graph already has a value named '{name}'.");
    }

    private static NodeProto NewNode(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (key, value) in attributes) node.Attribute.Add(Attribute(key, value));
        return node;
    }

    private static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case long i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case long[] ints: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints); break;
            case float[] floats: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(floats); break;
            default: throw new ArgumentException($"Attribute '{name}' has an unsupported type {value.GetType().Name}.", nameof(value));
        }
        return a;
    }

    private static ValueInfoProto ValueInfo(string name, long[] sampleShape) =>
        ValueInfo(name, TensorProto.Types.DataType.Float, ["batch", .. sampleShape.Cast<object>()]);

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] axes)
    {
        var shape = new TensorShapeProto();
        foreach (var axis in axes)
            shape.Dim.Add(axis switch
            {
                string param => new TensorShapeProto.Types.Dimension { DimParam = param },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"Axis '{axis}' of '{name}' is neither a name nor a size.", nameof(axes)),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
