using Microsoft.ML.Mhc.ImageClassification;
using Mhc.Models.IO;
using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.Onnx;

/// <summary>
/// Exports fitted or loaded mHC models to ONNX (opset 17, IR 8), to be scored by ONNX Runtime or ML.NET's
/// <c>ApplyOnnxModel</c> without libtorch. The nearest a third party gets to ML.NET's own
/// <c>mlContext.Model.ConvertToOnnx</c>, whose converter interfaces are internal.
/// </summary>
/// <remarks>
/// The graph holds the network only: input <see cref="MhcOnnxNames.Features"/> (raw pixels, batch x C·H·W, the
/// vector the trainer reads), outputs <see cref="MhcOnnxNames.Logits"/> and <see cref="MhcOnnxNames.Probabilities"/>.
/// The transforms around the trainer in a pipeline (MapValueToKey, image loading) are not included; the
/// predicted class is the arg-max of the probabilities, in the label's key order. Exported now: Hyper-ResNet
/// classifiers with residual, HC or mHC connections. Other architectures throw <see cref="NotSupportedException"/>
/// naming the layer, and no file is written.
/// </remarks>
public static class MhcOnnx
{
    /// <summary>Writes the mHC image classifier in <paramref name="model"/> to <paramref name="path"/>, atomically; returns the full path.</summary>
    /// <param name="ml">The caller's context (kept for symmetry with <c>mlContext.Model.ConvertToOnnx</c>).</param>
    /// <param name="model">A fitted <see cref="MhcImageClassificationTransformer"/>, a chain containing one, or a model loaded with <c>mlContext.Model.Load</c> or <c>MhcModelFile.Load</c>.</param>
    /// <param name="path">The .onnx file; its folder is created. An existing file is replaced only once the whole model is written.</param>
    /// <exception cref="ArgumentException">The model holds no mHC image classifier, or more than one.</exception>
    /// <exception cref="NotSupportedException">A layer of the network cannot be exported yet.</exception>
    public static string Export(MLContext ml, ITransformer model, string path)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        // Build the graph in memory first: an unsupported layer then leaves no temporary file behind.
        return WriteFile(model, path);
    }

    /// <summary>Writes the mHC image classifier in <paramref name="model"/> to <paramref name="stream"/> (left open).</summary>
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
        var classifiers = Flatten(model).OfType<MhcImageClassificationTransformer>().ToList();
        if (classifiers.Count > 1) throw new ArgumentException($"The model holds {classifiers.Count} mHC image classifiers; export them one at a time.", nameof(model));
        if (classifiers.Count == 1)
        {
            Export(classifiers[0].Network, stream);
            return;
        }
        // A loaded model: its network travels as a serialized blob inside a stock MapValue (see SavedScoringChain).
        var blobs = SavedNetworks.Blobs(model is MhcLoadedModel loaded ? loaded.Model : model)
            .Select(b => SerializedNetwork.Decode(b.Span)).ToList();
        var images = blobs.Where(b => b.Kind == ImageClassifierSpec.Kind).ToList();
        if (images.Count != 1)
        {
            var kinds = blobs.Select(b => b.Kind).Distinct().ToList();
            throw new ArgumentException(images.Count == 0
                ? $"The model holds no mHC image classifier{(kinds.Count > 0 ? $" (it holds: {string.Join(", ", kinds)}; only image classifiers export to ONNX yet)" : "")}."
                : $"The model holds {images.Count} mHC image classifiers; export them one at a time.", nameof(model));
        }
        using var engine = ImageClassifierEngine.Deserialize(images[0]);
        Export(engine.Network, stream);
    }

    /// <summary>Writes <paramref name="network"/> to <paramref name="stream"/> (left open).</summary>
    /// <exception cref="NotSupportedException">A layer of the network cannot be exported yet.</exception>
    public static void Export(ImageClassifierNetwork network, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        ImageClassifierOnnxGraph.Write(network, stream);
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
