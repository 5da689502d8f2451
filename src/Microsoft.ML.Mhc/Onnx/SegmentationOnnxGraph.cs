using Mhc.Models.Onnx;
using Microsoft.ML.Mhc.Segmentation;
using Onnx;

namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// The ONNX graph of a <see cref="SegmentationNetwork"/>: the flat pixel vector, standardised, through the Hyper-UNet;
/// per-pixel logits, softmax probabilities over the classes and the mask of class ids (the arg-max, as the
/// transformer's <c>PredictedMask</c>).
/// </summary>
internal static class SegmentationOnnxGraph
{
    public static void Write(SegmentationNetwork network, Stream stream)
    {
        var spec = network.Spec;
        var graph = new OnnxGraphBuilder("mhc_segmentation");
        var exporter = new ModuleGraphExporter(graph, network);
        var standardised = ImageInputGraph.Standardised(exporter, network, spec.Channels, spec.ImageHeight, spec.ImageWidth);
        var logits = exporter.Export(network.UNet, "unet", standardised);
        long[] expected = [-1, spec.NumClasses, spec.ImageHeight, spec.ImageWidth];
        if (!logits.Shape.SequenceEqual(expected))
            throw new InvalidOperationException($"ONNX export: the UNet returned {logits}, not (B, {spec.NumClasses}, {spec.ImageHeight}, {spec.ImageWidth}) logits.");
        graph.Output(logits, MhcOnnxNames.Logits);
        graph.Output(exporter.Ops.Softmax(logits, 1, "softmax"), MhcOnnxNames.Probabilities);
        // ArgMax keeps the first of equal maxima, as libtorch's argmax does.
        var mask = graph.Node("ArgMax", "argmax", [logits.Name], ("axis", 1L), ("keepdims", 0L), ("select_last_index", 0L));
        graph.Output(new OnnxValue(mask, [-1, spec.ImageHeight, spec.ImageWidth]), MhcOnnxNames.Mask, TensorProto.Types.DataType.Int64,
            "batch", (long)spec.ImageHeight, (long)spec.ImageWidth);
        graph.WriteTo(stream, "Microsoft.ML.Mhc",
            $"mHC segmentation UNet ({spec.Channels}x{spec.ImageHeight}x{spec.ImageWidth}, {spec.NumClasses} classes: {string.Join(", ", spec.ClassNames)}). " +
            $"Input '{MhcOnnxNames.Features}': raw pixels (batch, {spec.InputLength}); outputs '{MhcOnnxNames.Logits}' and '{MhcOnnxNames.Probabilities}' " +
            $"(batch, {spec.NumClasses}, {spec.ImageHeight}, {spec.ImageWidth}) and '{MhcOnnxNames.Mask}' (batch, {spec.ImageHeight}, {spec.ImageWidth}) int64 class ids.");
    }
}
