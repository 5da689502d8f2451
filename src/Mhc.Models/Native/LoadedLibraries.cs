namespace Mhc.Models.Native;

/// <summary>Finds shared libraries already mapped into this process (Linux: /proc/self/maps), to bind to the copy in use.</summary>
internal static class LoadedLibraries
{
    /// <summary>Whether this OS can list the mapped libraries.</summary>
    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>The full path of the first mapped file whose name matches, or null.</summary>
    public static string? Find(Func<string, bool> fileNameMatches)
    {
        if (!Supported) return null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                var path = line[slash..];
                if (fileNameMatches(Path.GetFileName(path))) return path;
            }
        }
        catch (IOException)
        {
            // No /proc: treated as not found.
        }
        return null;
    }
}
