using System.Diagnostics;
using System.Globalization;

namespace Mhc.Samples.Figures;

/// <summary>
/// Peak resident memory of this process, the figure the samples report. On Linux it is the kernel's
/// high-water mark <c>VmHWM</c> from <c>/proc/self/status</c>, which also counts native (libtorch)
/// allocations the GC does not see; elsewhere it falls back to <see cref="Process.PeakWorkingSet64"/>.
/// </summary>
public static class PeakMemory
{
    private const string StatusPath = "/proc/self/status";

    /// <summary>Peak resident set size in megabytes (MiB).</summary>
    public static double PeakResidentMegabytes()
    {
        long? kb = null;
        try
        {
            if (File.Exists(StatusPath))
            {
                kb = ParseStatusKilobytes(File.ReadAllText(StatusPath), "VmHWM");
            }
        }
        catch (IOException)
        {
            // Unreadable procfs (sandboxes): use the managed fallback below.
        }
        catch (UnauthorizedAccessException)
        {
        }

        if (kb is long value)
        {
            return value / 1024.0;
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>
    /// Reads a <c>kB</c> field such as <c>VmHWM:   123456 kB</c> from <c>/proc/&lt;pid&gt;/status</c> text;
    /// null when the field is absent or malformed.
    /// </summary>
    /// <param name="statusText">Contents of a <c>/proc/&lt;pid&gt;/status</c> file.</param>
    /// <param name="field">Field name without the colon, e.g. <c>VmHWM</c> or <c>VmRSS</c>.</param>
    public static long? ParseStatusKilobytes(string statusText, string field)
    {
        ArgumentNullException.ThrowIfNull(statusText);
        string prefix = field + ":";
        foreach (var line in statusText.Split('\n'))
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line[prefix.Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[1] == "kB" &&
                long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
            {
                return kb;
            }

            return null;
        }

        return null;
    }
}
