namespace Mhc.Samples.Data;

/// <summary>
/// Thrown when a data set the samples need is not on disk. The message names the folder that was
/// searched, what is missing, and the <c>build/get-data.sh</c> command that fetches it.
/// </summary>
public sealed class DataMissingException : Exception
{
    /// <summary>Creates the exception for <paramref name="dataset"/> (a <c>get-data.sh</c> target).</summary>
    /// <param name="dataset">The <c>get-data.sh</c> target, e.g. <c>mnist</c>.</param>
    /// <param name="directory">The folder that was searched.</param>
    /// <param name="missing">The files (relative to <paramref name="directory"/>) that are absent.</param>
    public DataMissingException(string dataset, string directory, IReadOnlyList<string> missing)
        : base($"The '{dataset}' data set is missing from {directory} (missing: {string.Join(", ", missing)}). " +
               $"Fetch it with `bash build/get-data.sh {dataset}` from the repository root, " +
               $"or set {DataPaths.DataRootVariable} to a folder that contains '{dataset}/'.")
    {
        Dataset = dataset;
        Directory = directory;
        Missing = missing;
    }

    /// <summary>The <c>get-data.sh</c> target that fetches the missing files.</summary>
    public string Dataset { get; }

    /// <summary>The folder that was searched.</summary>
    public string Directory { get; }

    /// <summary>The missing files, relative to <see cref="Directory"/>.</summary>
    public IReadOnlyList<string> Missing { get; }
}
