using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.DataViews;

/// <summary>
/// Checks once that <see cref="MLImage"/> pixels can be read in this process. ML.NET's image transforms
/// need the SkiaSharp build they were compiled against; with another one (e.g. a package feed serving a
/// newer patch) reading pixels fails deep inside ML.NET with a <see cref="MissingMethodException"/>.
/// This turns that into one clear error before training or scoring starts.
/// </summary>
internal static class ImagePixelAccess
{
    private static readonly Lazy<string?> Problem = new(Probe);

    /// <summary>Null when MLImage pixels can be read; otherwise why not.</summary>
    public static string? Failure => Problem.Value;

    /// <summary>Throws <see cref="NotSupportedException"/> when MLImage pixels cannot be read.</summary>
    public static void EnsureWorks(string column)
    {
        if (Failure is { } why)
            throw new NotSupportedException(
                $"The image column '{column}' cannot be read in this process: {why} Pass the pixels as a float vector column instead " +
                "(C x H x W values), or run with the SkiaSharp version Microsoft.ML.ImageAnalytics was built against.");
    }

    private static string? Probe()
    {
        try
        {
            using var image = MLImage.CreateFromPixels(1, 1, MLPixelFormat.Bgra32, new byte[] { 1, 2, 3, 255 });
            return image.Pixels.Length == 4 ? null : $"a 1x1 image returned {image.Pixels.Length} bytes.";
        }
        catch (Exception e) when (e is MissingMethodException or TypeLoadException or DllNotFoundException or TypeInitializationException)
        {
            var skia = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "SkiaSharp")?.GetName().Version;
            return $"MLImage pixel access fails ({e.GetType().Name}: {e.Message}; SkiaSharp {skia?.ToString() ?? "not loaded"}).";
        }
    }
}
