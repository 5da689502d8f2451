using System.Buffers.Binary;
using System.IO.Compression;

namespace Mhc.Samples.Tests.Data;

/// <summary>
/// Writes a tiny R lazy-load database (.rdb blocks of 4-byte length + zlib, and a gzipped .rdx
/// index list(variables, references, compressed)) the way R's makeLazyLoadDB lays it out.
/// </summary>
internal static class LazyLoadDatabaseBuilder
{
    public static void Write(string rdxPath, string rdbPath, IReadOnlyList<(string Name, byte[] Serialized)> objects)
    {
        var offsets = new List<(int Offset, int Length)>();
        using (var rdb = File.Create(rdbPath))
        {
            foreach (var (_, serialized) in objects)
            {
                var block = ZlibBlock(serialized);
                offsets.Add(((int)rdb.Position, block.Length));
                rdb.Write(block);
            }
        }

        var index = XdrBuilder.Version3().Flags(19, XdrBuilder.HasAttr).Int(3);
        index.Flags(19, XdrBuilder.HasAttr).Int(objects.Count);
        foreach (var (offset, length) in offsets)
        {
            index.Flags(13).Int(2).Int(offset).Int(length);
        }

        index.Flags(2, XdrBuilder.HasTag).Symbol("names").Strings(objects.Select(o => o.Name).ToArray()).Nil();
        index.Flags(19).Int(0);
        index.Flags(10).Int(1).Int(1);
        index.Flags(2, XdrBuilder.HasTag).Ref(1).Strings("variables", "references", "compressed").Nil();

        using var rdx = File.Create(rdxPath);
        using var gzip = new GZipStream(rdx, CompressionLevel.Optimal);
        gzip.Write(index.ToArray());
    }

    public static byte[] ZlibBlock(byte[] payload)
    {
        using var output = new MemoryStream();
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, payload.Length);
        output.Write(header);
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(payload);
        }

        return output.ToArray();
    }
}
