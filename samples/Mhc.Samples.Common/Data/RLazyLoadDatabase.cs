using System.Buffers.Binary;
using System.IO.Compression;

namespace Mhc.Samples.Data;

/// <summary>
/// Reads an R lazy-load database, the <c>.rdb</c>/<c>.rdx</c> pair R packages use for their data
/// (<c>data/Rdata.rdb</c>) and code. The <c>.rdx</c> index is a serialized (usually gzip-compressed)
/// <c>list(variables = list(name = c(offset, length), ...), references = ..., compressed = ...)</c>;
/// each variable is a block of the <c>.rdb</c>: a 4-byte big-endian uncompressed length followed by
/// a zlib stream (when <c>compressed</c> is TRUE) holding one serialized R object. Only the subset of
/// objects <see cref="RUnserializer"/> models can be loaded.
/// </summary>
public sealed class RLazyLoadDatabase
{
    private readonly Dictionary<string, (long Offset, int Length)> _variables;
    private readonly int _compression;

    private RLazyLoadDatabase(string rdbPath, Dictionary<string, (long Offset, int Length)> variables, int compression, IReadOnlyList<string> order)
    {
        RdbPath = rdbPath;
        _variables = variables;
        _compression = compression;
        VariableNames = order;
    }

    /// <summary>The <c>.rdb</c> file blocks are read from.</summary>
    public string RdbPath { get; }

    /// <summary>Names of the objects stored in the database, in index order.</summary>
    public IReadOnlyList<string> VariableNames { get; }

    /// <summary>Opens a database from its index; the <c>.rdb</c> defaults to the index's name with <c>.rdb</c>.</summary>
    /// <param name="rdxPath">The <c>.rdx</c> index file.</param>
    /// <param name="rdbPath">The <c>.rdb</c> data file; null = next to the index.</param>
    public static RLazyLoadDatabase Open(string rdxPath, string? rdbPath = null)
    {
        rdbPath ??= Path.ChangeExtension(rdxPath, ".rdb");
        if (!File.Exists(rdbPath))
        {
            throw new FileNotFoundException($"R lazy-load data file '{rdbPath}' (the .rdb next to '{rdxPath}') does not exist.", rdbPath);
        }

        var index = RUnserializer.Unserialize(DecompressIndex(File.ReadAllBytes(rdxPath), rdxPath), rdxPath);
        if (index is not RList list || list["variables"] is not RList variables)
        {
            throw new InvalidDataException($"{rdxPath}: not a lazy-load index; expected list(variables = list(...), references, compressed).");
        }

        int compression = list["compressed"] switch
        {
            RLogicalVector { Values.Count: 1 } l => l.Values[0] == true ? 1 : 0,
            RIntegerVector { Values.Count: 1 } i => i.Values[0],
            RDoubleVector { Values.Count: 1 } d => (int)d.Values[0],
            null => 0,
            var other => throw new InvalidDataException($"{rdxPath}: 'compressed' is a {other.GetType().Name}; expected TRUE/FALSE or 1..3."),
        };

        var names = variables.Names ?? throw new InvalidDataException($"{rdxPath}: 'variables' has no names.");
        var map = new Dictionary<string, (long, int)>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < variables.Values.Count; i++)
        {
            string name = names[i] ?? throw new InvalidDataException($"{rdxPath}: variable {i} has an NA name.");
            (double offset, double length) = variables.Values[i] switch
            {
                RIntegerVector { Values.Count: 2 } v => ((double)v.Values[0], (double)v.Values[1]),
                RDoubleVector { Values.Count: 2 } v => (v.Values[0], v.Values[1]),
                var other => throw new InvalidDataException($"{rdxPath}: variable '{name}' has a {other.GetType().Name} position; expected c(offset, length)."),
            };
            if (offset < 0 || length <= 0 || length > int.MaxValue)
            {
                throw new InvalidDataException($"{rdxPath}: variable '{name}' has an invalid block (offset {offset}, length {length}).");
            }

            map[name] = ((long)offset, (int)length);
            order.Add(name);
        }

        return new RLazyLoadDatabase(rdbPath, map, compression, order);
    }

    /// <summary>True when the database holds an object called <paramref name="name"/>.</summary>
    /// <param name="name">Object name.</param>
    public bool Contains(string name) => _variables.ContainsKey(name);

    /// <summary>Reads and unserializes the object called <paramref name="name"/>.</summary>
    /// <param name="name">Object name, one of <see cref="VariableNames"/>.</param>
    public RObject Load(string name)
    {
        if (!_variables.TryGetValue(name, out var block))
        {
            throw new KeyNotFoundException(
                $"{RdbPath}: no object '{name}'. Available: {string.Join(", ", VariableNames)}.");
        }

        var raw = new byte[block.Length];
        using (var file = File.OpenRead(RdbPath))
        {
            if (block.Offset + block.Length > file.Length)
            {
                throw new InvalidDataException(
                    $"{RdbPath}: block for '{name}' (offset {block.Offset}, length {block.Length}) runs past the end of the file ({file.Length} bytes).");
            }

            file.Seek(block.Offset, SeekOrigin.Begin);
            file.ReadExactly(raw);
        }

        string source = $"{RdbPath}[{name}]";
        return RUnserializer.Unserialize(DecompressBlock(raw, _compression, source), source);
    }

    /// <summary>
    /// Turns an <c>.rdb</c> block into serialization bytes. <paramref name="compression"/> is the
    /// index's <c>compressed</c> value: 0 = stored raw, 1 (TRUE) = length + zlib, 2/3 = length +
    /// a type byte ('Z' zlib, '0' stored, '2' bzip2, 'X' xz) + payload, as R's <c>R_decompress1..3</c>.
    /// </summary>
    /// <param name="block">The block's bytes.</param>
    /// <param name="compression">The index's <c>compressed</c> value.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static byte[] DecompressBlock(byte[] block, int compression, string sourceName)
    {
        if (compression == 0)
        {
            return block;
        }

        if (block.Length < 4)
        {
            throw new InvalidDataException($"{sourceName}: compressed block is {block.Length} bytes; expected a 4-byte length header.");
        }

        int expected = BinaryPrimitives.ReadInt32BigEndian(block);
        int start = 4;
        char method = 'Z';
        if (compression is 2 or 3)
        {
            if (block.Length < 5)
            {
                throw new InvalidDataException($"{sourceName}: compressed block lacks its type byte.");
            }

            method = (char)block[4];
            start = 5;
        }
        else if (compression != 1)
        {
            throw new NotSupportedException($"{sourceName}: unknown lazy-load compression {compression}; expected 0..3.");
        }

        byte[] result = method switch
        {
            'Z' => Inflate(block.AsSpan(start), expected, sourceName),
            '0' => block.AsSpan(start).ToArray(),
            '2' => throw new NotSupportedException($"{sourceName}: bzip2-compressed lazy-load blocks are not supported; only zlib (R's default) is."),
            'X' => throw new NotSupportedException($"{sourceName}: xz-compressed lazy-load blocks are not supported; only zlib (R's default) is."),
            _ => throw new InvalidDataException($"{sourceName}: unknown block compression type '{method}'."),
        };
        if (result.Length != expected)
        {
            throw new InvalidDataException($"{sourceName}: block inflated to {result.Length} bytes but its header says {expected}.");
        }

        return result;
    }

    /// <summary>
    /// Turns an <c>.rdx</c> (or <c>.rds</c>) file into serialization bytes: gzip (what
    /// <c>saveRDS</c> writes), a 4-byte length + zlib block, or an uncompressed <c>X\n</c> stream.
    /// </summary>
    /// <param name="file">The file's bytes.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static byte[] DecompressIndex(byte[] file, string sourceName)
    {
        if (file.Length >= 2 && file[0] == 0x1f && file[1] == 0x8b)
        {
            using var gzip = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }

        if (file.Length >= 2 && file[0] == (byte)'X' && file[1] == (byte)'\n')
        {
            return file;
        }

        return DecompressBlock(file, 1, sourceName);
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed, int expected, string sourceName)
    {
        if (expected < 0)
        {
            throw new InvalidDataException($"{sourceName}: block header gives a negative length ({expected}).");
        }

        try
        {
            using var zlib = new ZLibStream(new MemoryStream(compressed.ToArray()), CompressionMode.Decompress);
            using var output = new MemoryStream(expected);
            zlib.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{sourceName}: zlib stream is corrupt ({ex.Message}).", ex);
        }
    }
}
