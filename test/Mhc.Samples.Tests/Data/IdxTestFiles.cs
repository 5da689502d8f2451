using System.IO.Compression;

namespace Mhc.Samples.Tests.Data;

/// <summary>Writes small IDX files (unsigned bytes) in the MNIST layout.</summary>
internal static class IdxTestFiles
{
    public static byte[] Encode(int[] shape, byte[] data)
    {
        using var s = new MemoryStream();
        s.Write([0, 0, 0x08, (byte)shape.Length]);
        foreach (int d in shape)
        {
            s.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        }

        s.Write(data);
        return s.ToArray();
    }

    public static void Write(string path, int[] shape, byte[] data, bool gzip)
    {
        var bytes = Encode(shape, data);
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }

        using var file = File.Create(path);
        using var z = new GZipStream(file, CompressionLevel.Fastest);
        z.Write(bytes);
    }
}
