using System.Buffers.Binary;
using System.Text;

namespace Mhc.Models.Native;

/// <summary>
/// A minimal reader for the dynamic-linking tables of a 64-bit little-endian ELF shared object:
/// dynamic symbols, their version indices, the version needs (<c>.gnu.version_r</c>) and the
/// <c>.dynamic</c> entries. Just enough to weaken a version need; not a general ELF library.
/// </summary>
internal sealed class ElfImage
{
    private const uint ShtDynamic = 6;
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const long DtNeeded = 1, DtSoname = 14, DtRpath = 15, DtRunpath = 29;

    internal const int SymbolSize = 24;
    internal const int VernauxSize = 16;

    public byte[] Bytes { get; }
    public Section DynSym { get; }
    public Section DynStr { get; }
    public Section? VerSym { get; }
    public Section? VerNeed { get; }
    public Section? VerDef { get; }
    public Section? Dynamic { get; }

    public readonly record struct Section(long Offset, long Size, uint Link, uint Info);

    /// <summary>One Vernaux entry: a version this object needs from <see cref="File"/>.</summary>
    public readonly record struct VersionNeed(string File, string Name, ushort Flags, ushort Index, long EntryOffset);

    /// <summary>One dynamic symbol with its version index (from <c>.gnu.version</c>).</summary>
    public readonly record struct DynamicSymbol(int Ordinal, string Name, uint NameOffset, ushort SectionIndex, ushort VersionIndex)
    {
        public bool IsUndefined => SectionIndex == 0;
    }

    public ElfImage(byte[] bytes)
    {
        Bytes = bytes;
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file (bad magic)");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > bytes.Length)
            throw new InvalidDataException("ELF section header table is missing or truncated");

        var sections = new List<(uint Type, Section S)>(shnum);
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            uint type = U32(h + 4);
            var s = new Section((long)U64(h + 24), (long)U64(h + 32), U32(h + 40), U32(h + 44));
            if (type != 8 /* NOBITS */ && s.Offset + s.Size > bytes.Length)
                throw new InvalidDataException($"ELF section {i} lies outside the file");
            sections.Add((type, s));
        }

        Section? Find(uint t) => sections.FirstOrDefault(x => x.Type == t) is var f && f.Type == t ? f.S : null;
        DynSym = Find(ShtDynsym) ?? throw new InvalidDataException("ELF file has no .dynsym section");
        DynStr = sections[(int)DynSym.Link].S;
        VerSym = Find(ShtGnuVersym);
        VerNeed = Find(ShtGnuVerneed);
        VerDef = Find(ShtGnuVerdef);
        Dynamic = Find(ShtDynamic);
    }

    public ushort U16(long at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan((int)at, 2));
    public uint U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan((int)at, 4));
    public ulong U64(long at) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan((int)at, 8));
    public void WriteU16(long at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan((int)at, 2), v);

    /// <summary>The NUL-terminated string at <paramref name="offset"/> in <c>.dynstr</c>.</summary>
    public string DynString(uint offset)
    {
        var span = Bytes.AsSpan((int)(DynStr.Offset + offset), (int)(DynStr.Size - offset));
        int end = span.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
    }

    public IReadOnlyList<VersionNeed> VersionNeeds()
    {
        var result = new List<VersionNeed>();
        if (VerNeed is not { } vn) return result;
        long at = vn.Offset;
        for (uint n = 0; n < vn.Info; n++)
        {
            ushort cnt = U16(at + 2);
            string file = DynString(U32(at + 4));
            long aux = at + U32(at + 8);
            for (int a = 0; a < cnt; a++)
            {
                result.Add(new VersionNeed(file, DynString(U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux));
                uint next = U32(aux + 12);
                if (next == 0) break;
                aux += next;
            }
            uint vnNext = U32(at + 12);
            if (vnNext == 0) break;
            at += vnNext;
        }
        return result;
    }

    public IReadOnlyList<DynamicSymbol> DynamicSymbols()
    {
        int count = (int)(DynSym.Size / SymbolSize);
        var result = new List<DynamicSymbol>(count);
        for (int i = 0; i < count; i++)
        {
            long s = DynSym.Offset + (long)i * SymbolSize;
            uint name = U32(s);
            ushort shndx = U16(s + 6);
            ushort ver = VerSym is { } vs ? (ushort)(U16(vs.Offset + 2L * i) & 0x7fff) : (ushort)1;
            result.Add(new DynamicSymbol(i, DynString(name), name, shndx, ver));
        }
        return result;
    }

    /// <summary>DT_NEEDED library names, in order.</summary>
    public IReadOnlyList<string> NeededLibraries() =>
        DynamicEntries().Where(e => e.Tag == DtNeeded).Select(e => DynString((uint)e.Value)).ToList();

    /// <summary>Every <c>.dynstr</c> offset something refers to, for checking that a rename is private.</summary>
    public IEnumerable<uint> StringReferences()
    {
        foreach (var sym in DynamicSymbols()) yield return sym.NameOffset;
        foreach (var e in DynamicEntries())
            if (e.Tag is DtNeeded or DtSoname or DtRpath or DtRunpath) yield return (uint)e.Value;
        if (VerNeed is { } vn)
        {
            long at = vn.Offset;
            for (uint n = 0; n < vn.Info; n++)
            {
                yield return U32(at + 4);
                long aux = at + U32(at + 8);
                for (int a = 0; a < U16(at + 2); a++)
                {
                    yield return U32(aux + 8);
                    if (U32(aux + 12) == 0) break;
                    aux += U32(aux + 12);
                }
                if (U32(at + 12) == 0) break;
                at += U32(at + 12);
            }
        }
        if (VerDef is { } vd)
        {
            long at = vd.Offset;
            for (uint n = 0; n < vd.Info; n++)
            {
                long aux = at + U32(at + 12);
                for (int a = 0; a < U16(at + 6); a++)
                {
                    yield return U32(aux);
                    if (U32(aux + 4) == 0) break;
                    aux += U32(aux + 4);
                }
                if (U32(at + 16) == 0) break;
                at += U32(at + 16);
            }
        }
    }

    private IEnumerable<(long Tag, ulong Value)> DynamicEntries()
    {
        if (Dynamic is not { } d) yield break;
        for (long at = d.Offset; at + 16 <= d.Offset + d.Size; at += 16)
        {
            long tag = (long)U64(at);
            if (tag == 0) yield break;
            yield return (tag, U64(at + 8));
        }
    }
}
