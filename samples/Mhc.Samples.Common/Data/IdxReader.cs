using System.IO.Compression;

namespace Mhc.Samples.Data;

/// <summary>
/// Reads IDX files (Y. LeCun's MNIST format): magic <c>00 00 &lt;type&gt; &lt;rank&gt;</c>, then one
/// big-endian int32 per dimension, then the values. Only unsigned bytes (type 0x08), the type every
/// MNIST-family image and label file uses, are supported. Gzipped files are detected by their magic.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads an IDX file, raw or gzipped.</summary>
    /// <param name="path">The file.</param>
    public static IdxArray Read(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Reads an IDX stream, raw or gzipped (detected from the first two bytes).</summary>
    /// <param name="stream">A readable stream; it is not disposed.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static IdxArray Read(Stream stream, string sourceName = "IDX stream")
    {
        var buffered = new BufferedStream(stream, 1 << 16);
        Span<byte> head = stackalloc byte[2];
        int peeked = ReadAtMost(buffered, head);
        var prefix = head[..peeked].ToArray();
        Stream body = new PrefixedStream(prefix, buffered);
        if (peeked == 2 && prefix[0] == 0x1f && prefix[1] == 0x8b)
        {
            body = new GZipStream(body, CompressionMode.Decompress);
        }

        using (body)
        {
            return ReadRaw(body, sourceName);
        }
    }

    private static IdxArray ReadRaw(Stream s, string sourceName)
    {
        var magic = new byte[4];
        ReadExactly(s, magic, sourceName, "the 4-byte magic");
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new InvalidDataException(
                $"{sourceName}: not an IDX file (magic {Convert.ToHexString(magic)}; expected 0000<type><rank>, e.g. 00000803 for images).");
        }

        if (magic[2] != UnsignedByteType)
        {
            throw new NotSupportedException(
                $"{sourceName}: IDX element type 0x{magic[2]:X2} is not supported; only unsigned bytes (0x08) are.");
        }

        int rank = magic[3];
        if (rank == 0)
        {
            throw new InvalidDataException($"{sourceName}: IDX rank is 0; expected 1 (labels) or 3 (images).");
        }

        var shape = new int[rank];
        var dim = new byte[4];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(s, dim, sourceName, $"dimension {i}");
            shape[i] = (dim[0] << 24) | (dim[1] << 16) | (dim[2] << 8) | dim[3];
            if (shape[i] < 0)
            {
                throw new InvalidDataException($"{sourceName}: dimension {i} is negative ({shape[i]}).");
            }

            total *= shape[i];
        }

        if (total > Array.MaxLength)
        {
            throw new InvalidDataException($"{sourceName}: {total} values do not fit in one array.");
        }

        var data = new byte[total];
        ReadExactly(s, data, sourceName, $"{total} values for shape [{string.Join(", ", shape)}]");
        return new IdxArray(shape, data);
    }

    private static int ReadAtMost(Stream s, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = s.Read(buffer[read..]);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read;
    }

    private static void ReadExactly(Stream s, byte[] buffer, string sourceName, string what)
    {
        int read = ReadAtMost(s, buffer);
        if (read != buffer.Length)
        {
            throw new InvalidDataException($"{sourceName}: file ends early while reading {what} (got {read} of {buffer.Length} bytes).");
        }
    }

    // Puts the peeked magic bytes back in front of a non-seekable stream.
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
