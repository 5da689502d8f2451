using System.Text;

namespace Mhc.Models.Native;

/// <summary>What <see cref="ElfVersionNeedPatcher.Patch"/> changed.</summary>
/// <param name="WeakenedVersions">Version needs that were marked VER_FLG_WEAK.</param>
/// <param name="RenamedSymbols">Undefined marker symbols renamed to an always-present symbol.</param>
internal sealed record ElfPatchResult(IReadOnlyList<string> WeakenedVersions, IReadOnlyList<string> RenamedSymbols)
{
    public bool Changed => WeakenedVersions.Count > 0 || RenamedSymbols.Count > 0;
}

/// <summary>
/// Relaxes version needs of a shared object so it loads against an older libstdc++.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's libLibTorchSharp.so was linked on a newer distribution and so needs
/// GLIBCXX_3.4.32, though its only use of that version is the marker symbol
/// <c>_ZSt21ios_base_library_initv</c> that GCC 13 emits to force iostream initialisation; nothing
/// relocates against it, and libtorch_cpu.so (older toolchain) initialises iostreams itself.
/// Marking the need weak (VER_FLG_WEAK) turns "version not found" from fatal into a warning-free
/// no-op, and renaming the marker to a no-argument libstdc++ function of every version, with a
/// global version index, removes the last unresolvable reference. Any other symbol bound to a
/// missing version means real code depends on it, and the patch refuses.
/// </remarks>
internal static class ElfVersionNeedPatcher
{
    private const ushort VerFlgWeak = 0x2;
    private const ushort VerNdxGlobal = 1;

    /// <summary>Marker symbols that may be renamed, with the replacement each gets.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownMarkers = new Dictionary<string, string>
    {
        ["_ZSt21ios_base_library_initv"] = "_ZSt15get_new_handlerv",
    };

    /// <summary>
    /// Patches <paramref name="elf"/> in memory so that each version named in
    /// <paramref name="missingVersions"/> is no longer required. Patching an already patched image
    /// changes nothing.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a usable ELF, or a real (non-marker)
    /// symbol depends on a missing version, so no safe patch exists.</exception>
    public static ElfPatchResult Patch(byte[] elf, IReadOnlyCollection<string> missingVersions)
    {
        var image = new ElfImage(elf);
        var needs = image.VersionNeeds().Where(n => missingVersions.Contains(n.Name)).ToList();
        var unknown = missingVersions.Except(needs.Select(n => n.Name)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"the library does not declare the version need(s) {string.Join(", ", unknown)}");

        var missingIndices = needs.ToDictionary(n => n.Index, n => n.Name);
        var symbols = image.DynamicSymbols().Where(s => missingIndices.ContainsKey(s.VersionIndex)).ToList();
        var blockers = symbols.Where(s => !(s.IsUndefined && KnownMarkers.ContainsKey(s.Name))).ToList();
        if (blockers.Count > 0)
            throw new InvalidDataException(
                "real symbols need the missing version(s), so the library cannot be relaxed safely: " +
                string.Join(", ", blockers.Take(5).Select(s => $"{s.Name}@{missingIndices[s.VersionIndex]}")));

        var renamed = new List<string>();
        if (symbols.Count > 0)
        {
            var references = image.StringReferences().ToList();
            foreach (var sym in symbols)
            {
                string replacement = KnownMarkers[sym.Name];
                int oldLength = Encoding.ASCII.GetByteCount(sym.Name);
                if (replacement.Length > oldLength)
                    throw new InvalidDataException($"replacement {replacement} is longer than {sym.Name}");
                // .dynstr may share string tails between names; rename only a string nobody else points into.
                uint start = sym.NameOffset, end = start + (uint)oldLength;
                if (references.Count(r => r >= start && r < end) != 1)
                    throw new InvalidDataException($"the name {sym.Name} shares storage with another string in .dynstr");

                var span = elf.AsSpan((int)(image.DynStr.Offset + start), oldLength);
                span.Clear();
                Encoding.ASCII.GetBytes(replacement, span);
                if (image.VerSym is { } vs) image.WriteU16(vs.Offset + 2L * sym.Ordinal, VerNdxGlobal);
                renamed.Add($"{sym.Name} -> {replacement}");
            }
        }

        var weakened = new List<string>();
        foreach (var need in needs)
        {
            if ((need.Flags & VerFlgWeak) != 0) continue;
            image.WriteU16(need.EntryOffset + 4, (ushort)(need.Flags | VerFlgWeak));
            weakened.Add(need.Name);
        }
        return new ElfPatchResult(weakened, renamed);
    }
}
