using System.Runtime.InteropServices;

namespace Mhc.Models.Native;

/// <summary>
/// Entry points of a native library that libtorch loads, bound once it is mapped into the process. Binding waits for
/// the library instead of loading it: loading an OpenMP runtime or libtorch ourselves first would fix their settings
/// before <see cref="MhcEnvironment"/> has chosen them. Until the library is mapped every lookup retries; after that
/// the outcome (all exports, or none) is final.
/// </summary>
internal sealed class LateBoundExports
{
    private readonly object gate = new();
    private readonly Func<string?> findLibrary;
    private readonly string[] names;
    private nint[]? exports;
    private volatile bool resolved;

    /// <param name="findLibrary">The path of the library if it is mapped into this process, else null.</param>
    /// <param name="names">The exports to bind; all must be present.</param>
    public LateBoundExports(Func<string?> findLibrary, params string[] names)
    {
        this.findLibrary = findLibrary;
        this.names = names;
    }

    /// <summary>The addresses of the exports, in the order named, or null (not mapped yet, not Linux, or one is missing).</summary>
    public nint[]? Get()
    {
        if (resolved) return exports;
        lock (gate)
        {
            if (resolved) return exports;
            if (!LoadedLibraries.Supported)
            {
                resolved = true;
                return null;
            }
            if (findLibrary() is not { } path) return null;
            if (NativeLibrary.TryLoad(path, out var handle))
            {
                var found = new nint[names.Length];
                bool all = true;
                for (int i = 0; i < names.Length && all; i++) all = NativeLibrary.TryGetExport(handle, names[i], out found[i]);
                if (all) exports = found;
            }
            resolved = true;
            return exports;
        }
    }
}
