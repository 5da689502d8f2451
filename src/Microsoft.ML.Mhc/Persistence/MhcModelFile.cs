using System.IO.Compression;
using Mhc.Models.IO;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Saving and loading model files safely: <see cref="Save"/> writes atomically (a temporary file in the
/// same folder, then a rename), so a failed save never leaves a half-written model; <see cref="Load"/> turns a
/// missing, corrupted or foreign file into one clear error. Both work for any ML.NET model, with or without mHC
/// transformers in it.
/// </summary>
/// <remarks>
/// ML.NET's own <c>mlContext.Model.Save(model, schema, path)</c> is not atomic: it truncates the target first, so a
/// full disk or an exception mid-save leaves a partial or empty zip where the old model was. What <see cref="Save"/>
/// guarantees and what it does not is listed on <see cref="AtomicFile"/>.
/// </remarks>
public static class MhcModelFile
{
    /// <summary>
    /// Saves <paramref name="model"/> (any ML.NET transformer or chain, with the schema of its input) to
    /// <paramref name="path"/> atomically: readers and a later <see cref="Load"/> see the old complete file or the new
    /// complete one; if the save fails (e.g. a full disk) the old file stays as it was and the temporary file is removed.
    /// </summary>
    /// <param name="ml">The context whose <c>Model.Save</c> writes the zip.</param>
    /// <param name="model">The model.</param>
    /// <param name="inputSchema">The schema of the data the model is applied to (e.g. <c>trainingData.Schema</c>).</param>
    /// <param name="path">The model file; its folder is created.</param>
    public static void Save(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.Write(path, stream => ml.Model.Save(model, inputSchema, stream));
    }

    /// <summary>
    /// Loads a model saved by ML.NET (e.g. with <see cref="Save"/>). Dispose the result to free the native memory of its
    /// mHC networks at once (a model from <c>mlContext.Model.Load</c> frees it only when collected, or through
    /// <see cref="SavedNetworks.Release"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ML.NET model.</exception>
    public static MhcLoadedModel Load(MLContext ml, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No model file at '{path}'.", path);
        try
        {
            using (var zip = ZipFile.OpenRead(path))
            {
                if (zip.Entries.Count == 0) throw new InvalidDataException("the archive is empty");
            }
            return Wrap(ml.Model.Load(path, out inputSchema));
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException or InvalidOperationException or ArgumentException or EndOfStreamException
                                      && e is not FileNotFoundException)
        {
            throw new InvalidDataException($"'{path}' is not a readable ML.NET model ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>
    /// Wraps a model ML.NET loaded itself (<c>mlContext.Model.Load</c> from a path or a stream) so that it scores like one
    /// from <see cref="Load"/>: each saved scoring segment runs through its task's scorer, in batches of the saved scoring
    /// batch size, with the fresh transformer's columns and <c>Score</c> slot names, and <see cref="MhcLoadedModel.Dispose"/>
    /// frees its networks. The chain alone cannot do this: ML.NET rebuilds it from stock transforms whose custom mapping
    /// sees one row per call, and gives other assemblies no way to register a loader of their own.
    /// </summary>
    /// <param name="model">The loaded model; a model already wrapped is returned as it is.</param>
    public static MhcLoadedModel Wrap(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model as MhcLoadedModel ?? new MhcLoadedModel(model);
    }
}
