using Mhc.Models.Onnx;

namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// The input of an exported image network: the flat pixel vector <see cref="MhcOnnxNames.Features"/> (B, C·H·W)
/// reshaped to (B, C, H, W) and standardised per channel with the training statistics the network keeps as the
/// buffers <c>input_mean</c> and <c>input_std</c>, as the network's own forward does.
/// </summary>
internal static class ImageInputGraph
{
    public static OnnxValue Standardised(ModuleGraphExporter exporter, TorchSharp.torch.nn.Module network, int channels, int height, int width)
    {
        var ops = exporter.Ops;
        var features = ops.Graph.Input(MhcOnnxNames.Features, (long)channels * height * width);
        var images = ops.Reshape(features, "images", channels, height, width);
        long[] stats = [1, channels, 1, 1];
        var mean = exporter.Weight(network, "", "input_mean", Buffer(network, "input_mean"));
        var std = exporter.Weight(network, "", "input_std", Buffer(network, "input_std"));
        return ops.Binary("Div", ops.Binary("Sub", images, mean, stats, "centered"), std, stats, "standardised");
    }

    private static TorchSharp.torch.Tensor Buffer(TorchSharp.torch.nn.Module network, string name) =>
        ModuleGraphExporter.Tensor(network, name) ?? throw new InvalidOperationException($"ONNX export: the network has no buffer '{name}'.");
}
