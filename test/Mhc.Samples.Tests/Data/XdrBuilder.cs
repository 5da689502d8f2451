using System.Buffers.Binary;
using System.Text;

namespace Mhc.Samples.Tests.Data;

/// <summary>
/// Hand-writes R serialization streams (XDR, format 'X\n') item by item, following the layout of
/// R's serialize.c, so the reader can be tested without R.
/// </summary>
internal sealed class XdrBuilder
{
    public const int HasAttr = 1 << 9, HasTag = 1 << 10;
    public const int Utf8 = 1 << 3, Latin1 = 1 << 2, Ascii = 1 << 6;

    private readonly MemoryStream _stream = new();

    public static XdrBuilder Version3(string nativeEncoding = "UTF-8")
    {
        var b = new XdrBuilder();
        b._stream.Write("X\n"u8);
        b.Int(3).Int(0x00040201).Int(0x00030500).Int(nativeEncoding.Length);
        b._stream.Write(Encoding.ASCII.GetBytes(nativeEncoding));
        return b;
    }

    public static XdrBuilder Version2()
    {
        var b = new XdrBuilder();
        b._stream.Write("X\n"u8);
        return b.Int(2).Int(0x00030000).Int(0x00020300);
    }

    public XdrBuilder Int(int v)
    {
        Span<byte> buf = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buf, v);
        _stream.Write(buf);
        return this;
    }

    public XdrBuilder Double(double v)
    {
        Span<byte> buf = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(buf, v);
        _stream.Write(buf);
        return this;
    }

    public XdrBuilder Flags(int type, int extra = 0, int levels = 0) => Int(type | extra | (levels << 12));

    public XdrBuilder Nil() => Int(254);

    public XdrBuilder CharSxp(string? s, int levels = Utf8, Encoding? encoding = null)
    {
        Flags(9, 0, s is null ? 0 : levels);
        if (s is null)
        {
            return Int(-1);
        }

        var bytes = (encoding ?? Encoding.UTF8).GetBytes(s);
        Int(bytes.Length);
        _stream.Write(bytes);
        return this;
    }

    public XdrBuilder Symbol(string name) => Flags(1).CharSxp(name, Ascii);

    /// <summary>Back-reference to the index-th symbol read (1-based), packed in the flags as R does.</summary>
    public XdrBuilder Ref(int index) => Int((index << 8) | 255);

    public XdrBuilder Strings(params string?[] values)
    {
        Flags(16).Int(values.Length);
        foreach (var v in values)
        {
            CharSxp(v);
        }

        return this;
    }

    public XdrBuilder Raw(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        return this;
    }

    public byte[] ToArray() => _stream.ToArray();
}
