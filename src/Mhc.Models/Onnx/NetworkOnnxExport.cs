using static TorchSharp.torch;

namespace Mhc.Models.Onnx;

/// <summary>Writes a network of our module types as one ONNX model (opset 17, IR 8) with a dynamic batch axis.</summary>
public static class NetworkOnnxExport
{
    /// <summary>
    /// Writes <paramref name="network"/> (e.g. a <see cref="Vision.HyperResNet"/>) to <paramref name="stream"/> (left open):
    /// one float input <paramref name="inputName"/> of shape (batch, <paramref name="inputShape"/>) and one output
    /// <paramref name="outputName"/>. Inference semantics whatever the module's mode: batch norms use their running
    /// statistics and dropout is off. Initializers are named after the network's state_dict keys.
    /// </summary>
    /// <exception cref="NotSupportedException">A layer cannot be exported (the message names it and its type); nothing is written.</exception>
    public static void Write(nn.Module<Tensor, Tensor> network, Stream stream, long[] inputShape, string inputName = "input", string outputName = "output")
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(inputShape);
        var graph = new OnnxGraphBuilder(network.GetName());
        var exporter = new ModuleGraphExporter(graph, network);
        var output = exporter.Export(network, "", graph.Input(inputName, inputShape));
        graph.Output(output, outputName);
        graph.WriteTo(stream, "Mhc.Models", $"{network.GetType().Name} exported by Mhc.Models.Onnx");
    }
}
