using Microsoft.ML.Mhc.ImageClassification;
using Mhc.Models.IO;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Segmentation;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// Exports fitted or loaded mHC models to ONNX (opset 17, IR 8), to be scored by ONNX Runtime or ML.NET's
/// <c>ApplyOnnxModel</c> without libtorch. The nearest a third party gets to ML.NET's own
/// <c>mlContext.Model.ConvertToOnnx</c>, whose converter interfaces are internal.
/// </summary>
/// <remarks>
/// The graph holds the network only. Image classifiers (Hyper-ResNet or vision transformer) and segmentation
/// models (Hyper-UNet): input <see cref="MhcOnnxNames.Features"/> (raw pixels, batch x C·H·W, the vector the trainer
/// reads, standardised inside the graph), outputs <see cref="MhcOnnxNames.Logits"/> and
/// <see cref="MhcOnnxNames.Probabilities"/>, and for segmentation <see cref="MhcOnnxNames.Mask"/>. Text-generation
/// models: the decoder with past keys and values (<see cref="global::Mhc.Models.Onnx.DecoderOnnxExport"/>) and the
/// vocabulary in the metadata (<see cref="MhcOnnxNames.TokensMetadata"/>); sampling is the client's loop. The
/// transforms around the trainer in a pipeline (MapValueToKey, image loading) are not included; the predicted class
/// is the arg-max of the probabilities, in the label's key order. Residual, HC and mHC connections all export; a layer
/// that cannot be exported throws <see cref="NotSupportedException"/> naming it, and no file is written.
/// </remarks>
public static class MhcOnnx
{
    /// <summary>Writes the mHC network in <paramref name="model"/> (image classifier, segmentation or text generation) to <paramref name="path"/>, atomically; returns the full path.</summary>
    /// <param name="ml">The caller's context (kept for symmetry with <c>mlContext.Model.ConvertToOnnx</c>).</param>
    /// <param name="model">A fitted <see cref="MhcImageClassificationTransformer"/>, <see cref="MhcSegmentationTransformer"/> or <see cref="MhcTextGenerationTransformer"/>, a chain containing one, or a model loaded with <c>mlContext.Model.Load</c> or <c>MhcModelFile.Load</c>.</param>
    /// <param name="path">The .onnx file; its folder is created. An existing file is replaced only once the whole model is written.</param>
    /// <exception cref="ArgumentException">The model holds no mHC network, or more than one.</exception>
    /// <exception cref="NotSupportedException">A layer of the network cannot be exported yet.</exception>
    public static string Export(MLContext ml, ITransformer model, string path)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        // Build the graph in memory first: an unsupported layer then leaves no temporary file behind.
        return WriteFile(model, path);
    }

    /// <summary>Writes the mHC network in <paramref name="model"/> to <paramref name="stream"/> (left open).</summary>
    /// <inheritdoc cref="Export(MLContext, ITransformer, string)"/>
    public static void Export(MLContext ml, ITransformer model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        WriteModel(model, stream);
    }

    private static string WriteFile(ITransformer model, string path)
    {
        using var buffer = new MemoryStream();
        WriteModel(model, buffer);
        return AtomicFile.Write(path, stream => buffer.WriteTo(stream));
    }

    private static void WriteModel(ITransformer model, Stream stream)
    {
        // Fitted transformers in the chain, else (a loaded model) the serialized networks its stock transforms carry.
        var parts = Flatten(model).ToList();
        var fitted = new List<Action<Stream>>();
        foreach (var part in parts)
        {
            switch (part)
            {
                case MhcImageClassificationTransformer classifier: fitted.Add(s => Export(classifier.Network, s)); break;
                case MhcSegmentationTransformer segmenter: fitted.Add(s => Export(segmenter.Network, s)); break;
                case MhcTextGenerationTransformer generator: fitted.Add(s => TextGenerationOnnxGraph.Write(generator.Network, generator.Vocabulary, s)); break;
            }
        }
        var blobs = fitted.Count > 0 ? [] : SavedNetworks.Blobs(model is MhcLoadedModel loaded ? loaded.Model : model)
            .Select(b => SerializedNetwork.Decode(b.Span)).Where(b => Exportable.Contains(b.Kind)).ToList();
        int count = fitted.Count + blobs.Count;
        if (count != 1)
            throw new ArgumentException(count == 0
                ? "The model holds no mHC image classifier, segmentation or text-generation network to export."
                : $"The model holds {count} mHC networks; export them one at a time.", nameof(model));
        if (fitted.Count == 1)
        {
            fitted[0](stream);
            return;
        }
        WriteSerialized(blobs[0], stream);
    }

    private static readonly string[] Exportable = [ImageClassifierSpec.Kind, SegmentationSpec.Kind, TextGenerationMapping.NetworkKind];

    // Rebuilds the network on the CPU, writes it, frees it.
    private static void WriteSerialized(SerializedNetwork network, Stream stream)
    {
        switch (network.Kind)
        {
            case ImageClassifierSpec.Kind:
                using (var engine = ImageClassifierEngine.Deserialize(network)) Export(engine.Network, stream);
                break;
            case SegmentationSpec.Kind:
                using (var engine = SegmentationEngine.Deserialize(network)) Export(engine.Network, stream);
                break;
            default:
                var generator = TextGenerationModelFile.Decode(network).Generator;
                try
                {
                    TextGenerationOnnxGraph.Write(generator.Network, generator.Vocabulary, stream);
                }
                finally
                {
                    generator.Engine.Dispose();
                }
                break;
        }
    }

    /// <summary>Writes the image classifier <paramref name="network"/> to <paramref name="stream"/> (left open).</summary>
    /// <exception cref="NotSupportedException">A layer of the network cannot be exported.</exception>
    public static void Export(ImageClassifierNetwork network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        ImageClassifierOnnxGraph.Write(network, stream);
    }

    /// <summary>Writes the segmentation <paramref name="network"/> to <paramref name="stream"/> (left open).</summary>
    /// <exception cref="NotSupportedException">A layer of the network cannot be exported.</exception>
    public static void Export(SegmentationNetwork network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        SegmentationOnnxGraph.Write(network, stream);
    }

    /// <summary>
    /// <c>mlContext.Model.ExportToOnnx(model, path)</c>: <see cref="Export(MLContext, ITransformer, string)"/> from the model catalog.
    /// </summary>
    /// <inheritdoc cref="Export(MLContext, ITransformer, string)"/>
    public static string ExportToOnnx(this ModelOperationsCatalog catalog, ITransformer model, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return WriteFile(model, path);
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : model is MhcLoadedModel loaded ? Flatten(loaded.Model) : [model];
}
