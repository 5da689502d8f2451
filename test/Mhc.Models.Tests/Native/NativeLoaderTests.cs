using Mhc.Models;
using Mhc.Models.Native;
using TorchSharp;

namespace Mhc.Models.Tests.Native;

public class NativeLoaderTests
{
    private const string Marker = "_ZSt21ios_base_library_initv";

    private static string OriginalLibrary()
    {
        var dir = AppContext.BaseDirectory;
        var candidates = new[] { Path.Combine(dir, "libLibTorchSharp.so"), Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so") };
        return candidates.First(File.Exists);
    }

    [Fact]
    public void EnsureTorch_LoadsTorchAndReportsDevice()
    {
        var info = MhcEnvironment.EnsureTorch();
        Assert.Equal("cpu", info.Device);
        Assert.StartsWith("2.", info.LibTorchVersion);
        Assert.True(info.Threads >= 1);
        using var t = torch.ones(3, 4);
        Assert.Equal(12f, t.sum().item<float>());
    }

    [Fact]
    public void Patch_OnRealLibrary_WeakensNeedRenamesMarker_AndIsIdempotent()
    {
        if (!OperatingSystem.IsLinux()) return;
        var path = OriginalLibrary();
        var originalBytes = File.ReadAllBytes(path);
        var before = new ElfImage((byte[])originalBytes.Clone());
        var need = Assert.Single(before.VersionNeeds(), n => n.Name == "GLIBCXX_3.4.32");
        Assert.Equal(0, need.Flags & 2);
        Assert.Contains(before.DynamicSymbols(), s => s.Name == Marker && s.VersionIndex == need.Index);

        var bytes = (byte[])originalBytes.Clone();
        var result = ElfVersionNeedPatcher.Patch(bytes, new[] { "GLIBCXX_3.4.32" });
        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, result.WeakenedVersions);
        Assert.Single(result.RenamedSymbols);

        var after = new ElfImage(bytes);
        Assert.Equal(2, after.VersionNeeds().Single(n => n.Name == "GLIBCXX_3.4.32").Flags & 2);
        Assert.DoesNotContain(after.DynamicSymbols(), s => s.Name == Marker);
        Assert.DoesNotContain(after.DynamicSymbols(), s => s.VersionIndex == need.Index);
        var renamed = after.DynamicSymbols().Single(s => s.NameOffset == before.DynamicSymbols().Single(b => b.Name == Marker).NameOffset);
        Assert.Equal("_ZSt15get_new_handlerv", renamed.Name);
        Assert.Equal(1, renamed.VersionIndex);
        // Every other byte outside the three edits is unchanged, and other needs keep their flags.
        int differing = bytes.Zip(originalBytes).Count(p => p.First != p.Second);
        Assert.InRange(differing, 3, 40);
        Assert.Equal(before.VersionNeeds().Where(n => n.Name != "GLIBCXX_3.4.32").Select(n => n.Flags),
                     after.VersionNeeds().Where(n => n.Name != "GLIBCXX_3.4.32").Select(n => n.Flags));

        // A second run on the patched image is a no-op.
        var again = (byte[])bytes.Clone();
        var second = ElfVersionNeedPatcher.Patch(again, new[] { "GLIBCXX_3.4.32" });
        Assert.False(second.Changed);
        Assert.Equal(bytes, again);
        // The original file is untouched.
        Assert.Equal(originalBytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void Patch_RefusesWhenRealSymbolsNeedTheVersion()
    {
        var bytes = File.ReadAllBytes(OriginalLibrary());
        // GLIBCXX_3.4.30 is bound by real functions, so relaxing it would be unsafe.
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(bytes, new[] { "GLIBCXX_3.4.30" }));
        Assert.Contains("real symbols", error.Message);
    }

    [Fact]
    public void Patch_RejectsNonElfInput()
    {
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.Patch(new byte[100], new[] { "X" }));
        Assert.Contains("not an ELF", error.Message);
    }

    [Fact]
    public void PatchedCopy_IsCachedAtomically_AndReused()
    {
        if (!OperatingSystem.IsLinux()) return;
        var cache = Path.Combine(Path.GetTempPath(), "mhc-native-test-" + Guid.NewGuid().ToString("N"));
        var previous = MhcEnvironment.RuntimeOptions;
        MhcEnvironment.Configure(previous with { NativeCacheDirectory = cache });
        try
        {
            var original = OriginalLibrary();
            var results = new string[4];
            var created = new bool[4];
            Parallel.For(0, 4, i => results[i] = LibTorchSharpLoader.EnsurePatchedCopy(original, new[] { "GLIBCXX_3.4.32" }, out created[i]));
            Assert.Single(results.Distinct());
            Assert.True(created.Count(c => c) <= 1);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(results[0])!, "*.tmp"));
            var patched = new ElfImage(File.ReadAllBytes(results[0]));
            Assert.Equal(2, patched.VersionNeeds().Single(n => n.Name == "GLIBCXX_3.4.32").Flags & 2);
            var again = LibTorchSharpLoader.EnsurePatchedCopy(original, new[] { "GLIBCXX_3.4.32" }, out var createdAgain);
            Assert.Equal(results[0], again);
            Assert.False(createdAgain);
        }
        finally
        {
            MhcEnvironment.Configure(previous);
            if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void MissingVersions_ParsedFromLoaderMessage()
    {
        var msg = "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /app/libLibTorchSharp.so)" +
                  "\n/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.31' not found (required by /app/libother.so)";
        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, LibTorchSharpLoader.MissingVersionsOf(msg, "libLibTorchSharp.so"));
    }
}
