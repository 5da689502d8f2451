using System.Buffers.Binary;
using System.Text;

namespace Mhc.Samples.Data;

/// <summary>
/// Reads the subset of R's serialization format (versions 2 and 3, XDR binary, <c>X\n</c> header)
/// that data sets use: NULL, symbols, pairlists (tags and attributes), CHARSXP with its encoding
/// flags and NA, character/integer/logical/double vectors, lists, back-references to symbols,
/// long-vector lengths, and the compact/wrapper ALTREP classes. Anything else (closures,
/// environments, bytecode, ...) fails with a <see cref="NotSupportedException"/> naming the type.
/// Layout follows R's <c>src/main/serialize.c</c>: each item starts with an int32 of flags
/// (bits 0-7 type, bit 8 is-object, bit 9 has-attributes, bit 10 has-tag, bits 12-27 "levels").
/// </summary>
public sealed class RUnserializer
{
    // SEXPTYPEs (Rinternals.h).
    private const int NILSXP = 0, SYMSXP = 1, LISTSXP = 2, CHARSXP = 9, LGLSXP = 10, INTSXP = 13,
        REALSXP = 14, STRSXP = 16, VECSXP = 19;

    // Pseudo-types used only in the stream (serialize.c).
    private const int ALTREP_SXP = 238, NILVALUE_SXP = 254, REFSXP = 255;

    // CHARSXP "levels" bits (the gp field) that say how the bytes are encoded.
    private const int BYTES_MASK = 1 << 1, LATIN1_MASK = 1 << 2, UTF8_MASK = 1 << 3, ASCII_MASK = 1 << 6;

    private const int HasAttributesBit = 1 << 9, HasTagBit = 1 << 10;

    private static readonly Dictionary<int, string> TypeNames = new()
    {
        [0] = "NILSXP", [1] = "SYMSXP", [2] = "LISTSXP", [3] = "CLOSXP (function)", [4] = "ENVSXP (environment)",
        [5] = "PROMSXP (promise)", [6] = "LANGSXP (call)", [7] = "SPECIALSXP", [8] = "BUILTINSXP", [9] = "CHARSXP",
        [10] = "LGLSXP", [13] = "INTSXP", [14] = "REALSXP", [15] = "CPLXSXP (complex)", [16] = "STRSXP",
        [17] = "DOTSXP", [18] = "ANYSXP", [19] = "VECSXP", [20] = "EXPRSXP (expression)", [21] = "BCODESXP (bytecode)",
        [22] = "EXTPTRSXP", [23] = "WEAKREFSXP", [24] = "RAWSXP", [25] = "S4SXP", [238] = "ALTREP_SXP",
        [239] = "ATTRLISTSXP", [240] = "ATTRLANGSXP", [241] = "BASEENV_SXP", [242] = "EMPTYENV_SXP",
        [243] = "BCREPREF", [244] = "BCREPDEF", [245] = "GENERICREFSXP", [246] = "CLASSREFSXP",
        [247] = "PERSISTSXP", [248] = "PACKAGESXP", [249] = "NAMESPACESXP", [250] = "BASENAMESPACE_SXP",
        [251] = "MISSINGARG_SXP", [252] = "UNBOUNDVALUE_SXP", [253] = "GLOBALENV_SXP", [254] = "NILVALUE_SXP",
        [255] = "REFSXP",
    };

    private readonly byte[] _data;
    private readonly string _sourceName;
    private readonly List<RObject> _references = [];
    private int _position;
    private Encoding _nativeEncoding = Encoding.UTF8;

    private RUnserializer(byte[] data, string sourceName)
    {
        _data = data;
        _sourceName = sourceName;
    }

    /// <summary>The format version of the stream read last (2 or 3).</summary>
    public int Version { get; private set; }

    /// <summary>
    /// Unserializes one R object from an uncompressed serialization stream (what <c>serialize()</c>
    /// writes, and what <c>saveRDS()</c> writes before compression).
    /// </summary>
    /// <param name="data">The stream's bytes, starting with <c>X\n</c>.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static RObject Unserialize(byte[] data, string sourceName = "R serialization stream")
    {
        ArgumentNullException.ThrowIfNull(data);
        return new RUnserializer(data, sourceName).ReadStream();
    }

    private RObject ReadStream()
    {
        if (_data.Length < 2)
        {
            throw Invalid("stream is shorter than its 2-byte format header");
        }

        switch ((char)_data[0], (char)_data[1])
        {
            case ('X', '\n'):
                break;
            case ('A', '\n'):
                throw new NotSupportedException($"{_sourceName}: ASCII R serialization ('A\\n') is not supported; only XDR binary ('X\\n', R's default) is.");
            case ('B', '\n'):
                throw new NotSupportedException($"{_sourceName}: native-binary R serialization ('B\\n') is not supported; only XDR binary ('X\\n', R's default) is.");
            default:
                throw Invalid($"unknown format header 0x{_data[0]:X2}{_data[1]:X2}; expected 'X\\n' (XDR). Compressed input must be decompressed first");
        }

        _position = 2;
        Version = ReadInt();
        ReadInt(); // R version that wrote the stream.
        ReadInt(); // Oldest R version that can read it.
        if (Version == 3)
        {
            int length = ReadInt();
            string native = Encoding.ASCII.GetString(ReadBytes(length));
            _nativeEncoding = native.ToUpperInvariant() switch
            {
                "LATIN1" or "ISO-8859-1" or "ISO8859-1" or "ISO_8859-1" => Encoding.Latin1,
                _ => Encoding.UTF8,
            };
        }
        else if (Version != 2)
        {
            throw new NotSupportedException($"{_sourceName}: R serialization version {Version} is not supported; expected 2 or 3.");
        }

        return ReadItem();
    }

    private RObject ReadItem() => ReadItem(ReadInt());

    private RObject ReadItem(int flags)
    {
        int type = flags & 0xFF;
        bool hasAttributes = (flags & HasAttributesBit) != 0;
        switch (type)
        {
            case NILVALUE_SXP:
            case NILSXP:
                return RNull.Instance;
            case REFSXP:
                return ReadReference(flags);
            case SYMSXP:
                {
                    // The print name is a CHARSXP item; the symbol joins the reference table so that
                    // later REFSXPs can point back to it.
                    var name = ReadItem() as RCharacterVector;
                    var symbol = new RSymbol(name?.Values[0] ?? "NA");
                    _references.Add(symbol);
                    return symbol;
                }
            case LISTSXP:
                return ReadPairList(flags);
            case CHARSXP:
                // A bare CHARSXP is only legal inside STRSXP/SYMSXP; model it as a length-1 vector.
                return new RCharacterVector([ReadCharsxp(flags)]);
            case STRSXP:
                {
                    long length = ReadLength();
                    var values = new string?[length];
                    for (long i = 0; i < length; i++)
                    {
                        int elementFlags = ReadInt();
                        if ((elementFlags & 0xFF) != CHARSXP)
                        {
                            throw Invalid($"element {i} of a character vector has type {TypeName(elementFlags & 0xFF)}; expected CHARSXP");
                        }

                        values[i] = ReadCharsxp(elementFlags);
                    }

                    return WithAttributes(new RCharacterVector(values), hasAttributes);
                }
            case INTSXP:
                return WithAttributes(new RIntegerVector(ReadInts(ReadLength())), hasAttributes);
            case LGLSXP:
                {
                    var raw = ReadInts(ReadLength());
                    var values = raw.Select(v => v == RIntegerVector.NA ? (bool?)null : v != 0).ToArray();
                    return WithAttributes(new RLogicalVector(values), hasAttributes);
                }
            case REALSXP:
                return WithAttributes(new RDoubleVector(ReadDoubles(ReadLength())), hasAttributes);
            case VECSXP:
                {
                    long length = ReadLength();
                    var values = new RObject[length];
                    for (long i = 0; i < length; i++)
                    {
                        values[i] = ReadItem();
                    }

                    return WithAttributes(new RList(values), hasAttributes);
                }
            case ALTREP_SXP:
                return ReadAltrep();
            default:
                throw new NotSupportedException(
                    $"{_sourceName}: R type {TypeName(type)} at byte {_position - 4} is not supported by this reader " +
                    "(supported: NULL, symbols, pairlists, character/integer/logical/double vectors, lists, references, compact ALTREP).");
        }
    }

    private RObject ReadReference(int flags)
    {
        // The index is packed into the flags' upper bits unless it was too large, then it follows.
        int index = flags >> 8;
        if (index == 0)
        {
            index = ReadInt();
        }

        if (index < 1 || index > _references.Count)
        {
            throw Invalid($"back-reference {index} points outside the {_references.Count} entries read so far");
        }

        return _references[index - 1];
    }

    private RPairList ReadPairList(int flags)
    {
        // Pairlists are read iteratively (attributes, tag, CAR, then CDR) so long ones cannot
        // overflow the stack. Only the head cell's attributes are kept.
        RPairList? headAttributes = null;
        var entries = new List<RPairListEntry>();
        RObject? tail = null;
        bool first = true;
        while (true)
        {
            RPairList? attributes = null;
            if ((flags & HasAttributesBit) != 0)
            {
                attributes = ReadItem() as RPairList;
            }

            if (first)
            {
                headAttributes = attributes;
                first = false;
            }

            string? tag = null;
            if ((flags & HasTagBit) != 0)
            {
                tag = ReadItem() switch
                {
                    RSymbol s => s.Name,
                    RCharacterVector c => c.Values[0],
                    RNull => null,
                    var other => throw Invalid($"pairlist tag is a {other.GetType().Name}; expected a symbol"),
                };
            }

            entries.Add(new RPairListEntry(tag, ReadItem()));
            int next = ReadInt();
            int nextType = next & 0xFF;
            if (nextType == LISTSXP)
            {
                flags = next;
                continue;
            }

            if (nextType != NILVALUE_SXP && nextType != NILSXP)
            {
                tail = ReadItem(next);
            }

            break;
        }

        return new RPairList(entries, tail) { Attributes = headAttributes };
    }

    private string? ReadCharsxp(int flags)
    {
        int length = ReadInt();
        if (length == -1)
        {
            return null; // NA_STRING
        }

        if (length < 0)
        {
            throw Invalid($"CHARSXP length {length} is negative");
        }

        var bytes = ReadBytes(length);
        int levels = flags >> 12;
        Encoding encoding =
            (levels & UTF8_MASK) != 0 ? Encoding.UTF8 :
            (levels & (LATIN1_MASK | BYTES_MASK)) != 0 ? Encoding.Latin1 : // Latin-1 keeps "bytes" strings lossless.
            (levels & ASCII_MASK) != 0 ? Encoding.ASCII :
            _nativeEncoding;
        return encoding.GetString(bytes);
    }

    private RObject ReadAltrep()
    {
        // ALTREP_SXP: info = pairlist(class symbol, package symbol, base type), then the class's
        // serialized state, then the attributes (serialize.c, ReadItem case ALTREP_SXP).
        var info = ReadItem() as RPairList;
        var state = ReadItem();
        var attributes = ReadItem() as RPairList;
        string className = info is { Entries.Count: > 0 } && info.Entries[0].Value is RSymbol cls ? cls.Name : "?";
        RObject value = className switch
        {
            "compact_intseq" => ExpandSequence(state, asInteger: true),
            "compact_realseq" => ExpandSequence(state, asInteger: false),
            _ when className.StartsWith("wrap_", StringComparison.Ordinal) && state is RPairList { Entries.Count: > 0 } wrapped =>
                wrapped.Entries[0].Value,
            _ => throw new NotSupportedException(
                $"{_sourceName}: ALTREP class '{className}' is not supported (supported: compact_intseq, compact_realseq, wrap_*)."),
        };
        if (attributes is not null)
        {
            value.Attributes = attributes;
        }

        return value;
    }

    private RObject ExpandSequence(RObject state, bool asInteger)
    {
        // altclasses.c stores compact sequences as c(length, first, increment) in a double vector.
        if (state is not RDoubleVector { Values.Count: 3 } d)
        {
            throw Invalid("compact sequence state must be a double vector c(length, first, increment)");
        }

        long n = (long)d.Values[0];
        if (n < 0 || n > Array.MaxLength)
        {
            throw Invalid($"compact sequence length {d.Values[0]} is out of range");
        }

        if (asInteger)
        {
            int start = (int)d.Values[1], step = (int)d.Values[2];
            var ints = new int[n];
            for (long i = 0; i < n; i++)
            {
                ints[i] = start + (int)i * step;
            }

            return new RIntegerVector(ints);
        }

        var doubles = new double[n];
        for (long i = 0; i < n; i++)
        {
            doubles[i] = d.Values[1] + i * d.Values[2];
        }

        return new RDoubleVector(doubles);
    }

    private RObject WithAttributes(RObject value, bool hasAttributes)
    {
        // Vectors carry their attribute pairlist after the data.
        if (hasAttributes)
        {
            value.Attributes = ReadItem() switch
            {
                RPairList p => p,
                RNull => null,
                var other => throw Invalid($"attributes must be a pairlist, found {other.GetType().Name}"),
            };
        }

        return value;
    }

    private long ReadLength()
    {
        int length = ReadInt();
        if (length >= 0)
        {
            return length;
        }

        if (length != -1)
        {
            throw Invalid($"vector length {length} is negative");
        }

        // Long vector: -1 followed by the upper and lower 32 bits.
        long upper = (uint)ReadInt(), lower = (uint)ReadInt();
        long full = (upper << 32) | lower;
        if (full > Array.MaxLength)
        {
            throw new NotSupportedException($"{_sourceName}: long vector of length {full} does not fit in a .NET array.");
        }

        return full;
    }

    private int ReadInt()
    {
        Need(4, "an int32");
        int v = BinaryPrimitives.ReadInt32BigEndian(_data.AsSpan(_position, 4));
        _position += 4;
        return v;
    }

    private int[] ReadInts(long count)
    {
        Need(count * 4, $"{count} int32 values");
        var values = new int[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32BigEndian(_data.AsSpan(_position, 4));
            _position += 4;
        }

        return values;
    }

    private double[] ReadDoubles(long count)
    {
        Need(count * 8, $"{count} doubles");
        var values = new double[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleBigEndian(_data.AsSpan(_position, 8));
            _position += 8;
        }

        return values;
    }

    private byte[] ReadBytes(int count)
    {
        Need(count, $"{count} bytes");
        var bytes = _data.AsSpan(_position, count).ToArray();
        _position += count;
        return bytes;
    }

    private void Need(long count, string what)
    {
        if (_position + count > _data.Length)
        {
            throw Invalid($"stream ends at byte {_data.Length} while reading {what} at byte {_position}");
        }
    }

    private InvalidDataException Invalid(string message) => new($"{_sourceName}: {message}.");

    private static string TypeName(int type) =>
        TypeNames.TryGetValue(type, out var name) ? $"{type} ({name})" : type.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
