using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Mhc.Models.Native;

/// <summary>How the TorchSharp native component was made loadable.</summary>
/// <param name="Action">One line saying what was done (shown in logs and <see cref="TorchRuntimeInfo"/>).</param>
/// <param name="LoadedPath">The libLibTorchSharp actually in use, when this loader loaded it.</param>
/// <param name="Error">Why it could not be made loadable, with what to install; null on success.</param>
internal sealed record NativeLoadOutcome(string Action, string? LoadedPath, string? Error);

/// <summary>
/// Makes TorchSharp's native component load on systems whose libstdc++ is older than the one it was
/// linked against (Debian 12, Ubuntu 22.04): detects the missing GLIBCXX versions, prepares a
/// patched copy of libLibTorchSharp.so in a per-user cache once, and loads it before TorchSharp
/// initialises, so that TorchSharp's own probing (which ends in a bare-name dlopen, matched by
/// SONAME) and every P/Invoke resolve to the patched copy. Does nothing off Linux or where the
/// library already loads.
/// </summary>
internal static partial class LibTorchSharpLoader
{
    private const string LibraryFile = "libLibTorchSharp.so";
    private static readonly object Gate = new();
    private static NativeLoadOutcome? outcome;
    private static IntPtr handle;

    /// <summary>Idempotent and thread-safe; never throws (failures are in the outcome).</summary>
    public static NativeLoadOutcome Prepare()
    {
        lock (Gate)
        {
            if (outcome is not null) return outcome;
            try { outcome = PrepareCore(); }
            catch (Exception e) { outcome = new NativeLoadOutcome("native fix failed", null, e.Message); }
            return outcome;
        }
    }

    private static NativeLoadOutcome PrepareCore()
    {
        if (!OperatingSystem.IsLinux())
            return new NativeLoadOutcome("no native fix needed on this OS", null, null);
        var original = FindOriginal();
        if (original is null)
            return new NativeLoadOutcome($"{LibraryFile} not found beside the app; left to TorchSharp's loader", null, null);

        string? loadError = TryLoad(original, out var h);
        if (loadError is null)
        {
            handle = h;
            return new NativeLoadOutcome("system libstdc++ is new enough; no native fix needed", original, null);
        }

        var missing = MissingVersionsOf(loadError, LibraryFile);
        if (missing.Count == 0)
            return new NativeLoadOutcome("could not load TorchSharp's native component", null,
                $"{original} failed to load for a reason the mHC loader cannot fix: {loadError}");

        var patched = EnsurePatchedCopy(original, missing, out var created);
        PreloadDependencies(original);
        string? patchedError = TryLoad(patched, out h);
        if (patchedError is not null)
            return new NativeLoadOutcome("patched copy failed to load", null,
                $"The patched copy {patched} still fails to load: {patchedError}. Install a libstdc++ that provides " +
                $"{string.Join(", ", missing)} (GCC 13 or newer runtime, e.g. Ubuntu 24.04 / Debian 13).");
        handle = h;
        RegisterResolver();
        return new NativeLoadOutcome(
            $"system libstdc++ lacks {string.Join(", ", missing)}: {(created ? "created" : "using cached")} patched {LibraryFile} " +
            $"(version need made weak, marker symbol renamed) at {patched}", patched, null);
    }

    /// <summary>Versions that a dlopen error says are missing for <paramref name="library"/>.</summary>
    internal static IReadOnlyList<string> MissingVersionsOf(string loaderError, string library) =>
        MissingVersionRegex().Matches(loaderError)
            .Where(m => Path.GetFileName(m.Groups["by"].Value) == library)
            .Select(m => m.Groups["ver"].Value).Distinct().ToList();

    [GeneratedRegex(@"version `(?<ver>[^']+)' not found \(required by (?<by>[^)]+)\)")]
    private static partial Regex MissingVersionRegex();

    /// <summary>Where the runtime would find TorchSharp's native component for this app.</summary>
    private static string? FindOriginal()
    {
        var dirs = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string nativeDirs)
            dirs.AddRange(nativeDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        var torchDir = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        string rid = RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64";
        foreach (var baseDir in new[] { torchDir, AppContext.BaseDirectory })
        {
            if (string.IsNullOrEmpty(baseDir)) continue;
            dirs.Add(baseDir);
            dirs.Add(Path.Combine(baseDir, "runtimes", rid, "native"));
            dirs.Add(Path.Combine(baseDir, "..", "..", "runtimes", rid, "native")); // NuGet cache layout
        }
        return dirs.Select(d => Path.GetFullPath(Path.Combine(d, LibraryFile))).FirstOrDefault(File.Exists);
    }

    private static string? TryLoad(string path, out IntPtr h)
    {
        try { h = NativeLibrary.Load(path); return null; }
        catch (DllNotFoundException e) { h = IntPtr.Zero; return e.Message; }
        catch (BadImageFormatException e) { h = IntPtr.Zero; return e.Message; }
    }

    /// <summary>The per-user cache folder for patched natives (<see cref="MhcRuntimeOptions.NativeCacheDirectory"/> overrides).</summary>
    internal static string CacheRoot()
    {
        var overridden = MhcEnvironment.RuntimeOptions.NativeCacheDirectory;
        if (!string.IsNullOrEmpty(overridden)) return overridden;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache") : Path.GetTempPath();
        return Path.Combine(root, "microsoft.ml.mhc", "native");
    }

    /// <summary>
    /// Writes the patched copy once per distinct original (keyed by content hash). The write goes to
    /// a unique temporary file that is renamed into place, so concurrent first users never see a
    /// half-written library and the loser of the race simply uses the winner's file.
    /// </summary>
    internal static string EnsurePatchedCopy(string original, IReadOnlyCollection<string> missing, out bool created)
    {
        var bytes = File.ReadAllBytes(original);
        var key = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var dir = Path.Combine(CacheRoot(), key);
        var target = Path.Combine(dir, LibraryFile);
        created = false;
        if (File.Exists(target)) return target;

        ElfVersionNeedPatcher.Patch(bytes, missing);
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{LibraryFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            try { File.Move(temp, target, overwrite: false); created = true; }
            catch (IOException) when (File.Exists(target)) { /* another process won the race */ }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return target;
    }

    /// <summary>
    /// The patched copy lives outside the natives folder, so its $ORIGIN run path finds nothing;
    /// loading its DT_NEEDED siblings from the original folder first lets the dynamic linker match
    /// them by SONAME.
    /// </summary>
    private static void PreloadDependencies(string original)
    {
        var dir = Path.GetDirectoryName(original)!;
        foreach (var needed in new ElfImage(File.ReadAllBytes(original)).NeededLibraries())
        {
            var sibling = Path.Combine(dir, needed);
            if (File.Exists(sibling)) NativeLibrary.Load(sibling);
        }
    }

    private static void RegisterResolver()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone already owns TorchSharp's resolver; the SONAME match still routes loads to our copy.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        handle != IntPtr.Zero && (name == "LibTorchSharp" || name == LibraryFile) ? handle : IntPtr.Zero;
}
