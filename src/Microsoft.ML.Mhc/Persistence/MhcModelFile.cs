using System.IO.Compression;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Saving and loading model files safely: <see cref="Save"/> writes atomically (a temporary file in the
/// same folder, then a rename), so a crash never leaves a half-written model; <see cref="Load"/> turns a
/// missing, corrupted or foreign file into one clear error.
/// </summary>
public static class MhcModelFile
{
    /// <summary>Saves <paramref name="model"/> (with the schema of its input) to <paramref name="path"/> atomically.</summary>
    public static void Save(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                ml.Model.Save(model, inputSchema, stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
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
            return new MhcLoadedModel(ml.Model.Load(path, out inputSchema));
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException or InvalidOperationException or ArgumentException or EndOfStreamException
                                      && e is not FileNotFoundException)
        {
            throw new InvalidDataException($"'{path}' is not a readable ML.NET model ({e.GetType().Name}: {e.Message}).", e);
        }
    }
}
