using Mhc.Models.Onnx;
using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// The ONNX graph of an <see cref="ImageClassifierNetwork"/>: the flat pixel vector reshaped to (B, C, H, W), the
/// per-channel standardisation with the training statistics, the backbone, and softmax probabilities.
/// </summary>
internal static class ImageClassifierOnnxGraph
{
    public static void Write(ImageClassifierNetwork network, Stream stream)
    {
        var spec = network.Spec;
        var graph = new OnnxGraphBuilder("mhc_image_classifier");
        var exporter = new ModuleGraphExporter(graph, network);
        var standardised = ImageInputGraph.Standardised(exporter, network, spec.Channels, spec.ImageHeight, spec.ImageWidth);
        var logits = exporter.Export(network.Backbone, "backbone", standardised);
        if (logits.Shape.Length != 2 || logits.Shape[1] != spec.NumClasses)
            throw new InvalidOperationException($"ONNX export: the backbone returned {logits}, not (B, {spec.NumClasses}) logits.");
        graph.Output(logits, MhcOnnxNames.Logits);
        graph.Output(exporter.Ops.Softmax(logits, 1, "softmax"), MhcOnnxNames.Probabilities);
        graph.WriteTo(stream, "Microsoft.ML.Mhc",
            $"mHC image classifier ({spec.Architecture}, {spec.Channels}x{spec.ImageHeight}x{spec.ImageWidth}, {spec.NumClasses} classes). " +
            $"Input '{MhcOnnxNames.Features}': raw pixels (batch, {spec.InputLength}); outputs '{MhcOnnxNames.Logits}' and '{MhcOnnxNames.Probabilities}' (batch, {spec.NumClasses}).");
    }
}
