namespace Mhc.Samples.Data;

/// <summary>
/// Finds the folder that <c>build/get-data.sh</c> fills: <c>$MHC_DATA</c> when set, otherwise
/// <c>data/</c> next to <c>Mhc.sln</c>, found by walking up from the running assembly's folder
/// (so samples and tests work from <c>bin/Release/...</c> without arguments).
/// </summary>
public static class DataPaths
{
    /// <summary>Environment variable that overrides the data root.</summary>
    public const string DataRootVariable = "MHC_DATA";

    /// <summary>File that marks the repository root.</summary>
    public const string SolutionFileName = "Mhc.sln";

    /// <summary>The data root for this process (see <see cref="ResolveDataRoot"/>).</summary>
    public static string DataRoot =>
        ResolveDataRoot(Environment.GetEnvironmentVariable(DataRootVariable), AppContext.BaseDirectory);

    /// <summary>
    /// Resolves the data root: <paramref name="overrideRoot"/> when non-empty, else the <c>data</c>
    /// folder of the first ancestor of <paramref name="startDirectory"/> that holds <c>Mhc.sln</c>.
    /// </summary>
    /// <param name="overrideRoot">Value of <c>MHC_DATA</c>, or null.</param>
    /// <param name="startDirectory">Folder to start the upward search from.</param>
    public static string ResolveDataRoot(string? overrideRoot, string startDirectory)
    {
        if (!string.IsNullOrWhiteSpace(overrideRoot))
        {
            return Path.GetFullPath(overrideRoot);
        }

        string? repo = FindRepositoryRoot(startDirectory);
        if (repo is null)
        {
            throw new DirectoryNotFoundException(
                $"Could not find the data folder: no ancestor of '{startDirectory}' contains {SolutionFileName}. " +
                $"Set {DataRootVariable} to the folder that `bash build/get-data.sh` filled (it defaults to <repo>/data).");
        }

        return Path.Combine(repo, "data");
    }

    /// <summary>The first ancestor of <paramref name="startDirectory"/> (itself included) holding <c>Mhc.sln</c>, or null.</summary>
    /// <param name="startDirectory">Folder to start from.</param>
    public static string? FindRepositoryRoot(string startDirectory)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(startDirectory)); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName)))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>
    /// Returns <c>&lt;root&gt;/&lt;dataset&gt;</c> after checking that every file in
    /// <paramref name="requiredFiles"/> exists there; throws <see cref="DataMissingException"/> otherwise.
    /// </summary>
    /// <param name="dataset">The <c>get-data.sh</c> target and folder name, e.g. <c>fashion-mnist</c>.</param>
    /// <param name="root">Data root; null means <see cref="DataRoot"/>.</param>
    /// <param name="requiredFiles">Files the caller needs. Alternatives are separated by <c>|</c>
    /// (e.g. <c>train-images-idx3-ubyte.gz|train-images-idx3-ubyte</c>).</param>
    public static string Require(string dataset, string? root, params string[] requiredFiles)
    {
        string directory = Path.Combine(root ?? DataRoot, dataset);
        var missing = requiredFiles
            .Where(spec => !spec.Split('|').Any(f => File.Exists(Path.Combine(directory, f))))
            .ToList();
        if (missing.Count > 0)
        {
            throw new DataMissingException(dataset, directory, missing);
        }

        return directory;
    }
}
