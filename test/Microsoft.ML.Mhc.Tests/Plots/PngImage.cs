using SkiaSharp;

namespace Microsoft.ML.Mhc.Tests.Plots;

/// <summary>Reads back a written PNG: header checks and colour counts.</summary>
internal sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly SKBitmap _bitmap;

    private PngImage(SKBitmap bitmap) => _bitmap = bitmap;

    public int Width => _bitmap.Width;
    public int Height => _bitmap.Height;

    public static PngImage Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 2000, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(Signature, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        int width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
        int height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
        var bitmap = SKBitmap.Decode(bytes) ?? throw new InvalidDataException($"{path} does not decode as an image");
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        return new PngImage(bitmap);
    }

    /// <summary>Pixels within <paramref name="tolerance"/> (per channel) of the colour #rrggbb.</summary>
    public int Count(string hex, int tolerance = 12)
    {
        int r = Convert.ToInt32(hex[1..3], 16), g = Convert.ToInt32(hex[3..5], 16), b = Convert.ToInt32(hex[5..7], 16);
        int n = 0;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                var c = _bitmap.GetPixel(x, y);
                if (Math.Abs(c.Red - r) <= tolerance && Math.Abs(c.Green - g) <= tolerance && Math.Abs(c.Blue - b) <= tolerance) n++;
            }
        return n;
    }

    public int DistinctColors()
    {
        var set = new HashSet<uint>();
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++) set.Add((uint)_bitmap.GetPixel(x, y));
        return set.Count;
    }
}
