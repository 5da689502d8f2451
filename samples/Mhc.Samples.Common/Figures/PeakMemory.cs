using System.Diagnostics;
using System.Globalization;

namespace Mhc.Samples.Figures;

/// <summary>
/// Peak and current resident memory of this process, the figures the samples report. On Linux they are the
/// kernel's <c>VmHWM</c> (high-water mark) and <c>VmRSS</c> from <c>/proc/self/status</c>, which also count native
/// (libtorch) allocations the GC does not see; elsewhere they fall back to <see cref="Process.PeakWorkingSet64"/>
/// and <see cref="Process.WorkingSet64"/>.
/// </summary>
public static class PeakMemory
{
    private const string StatusPath = "/proc/self/status";

    /// <summary>Peak resident set size in megabytes (MiB).</summary>
    public static double PeakResidentMegabytes() =>
        StatusMegabytes("VmHWM") ?? ProcessMegabytes(p => p.PeakWorkingSet64);

    /// <summary>Resident set size now, in megabytes (MiB): <c>VmRSS</c> on Linux, else the working set.</summary>
    public static double ResidentMegabytes() =>
        StatusMegabytes("VmRSS") ?? ProcessMegabytes(p => p.WorkingSet64);

    private static double ProcessMegabytes(Func<Process, long> bytes)
    {
        using var process = Process.GetCurrentProcess();
        return bytes(process) / (1024.0 * 1024.0);
    }

    private static double? StatusMegabytes(string field)
    {
        long? kb = null;
        try
        {
            if (File.Exists(StatusPath))
            {
                kb = ParseStatusKilobytes(File.ReadAllText(StatusPath), field);
            }
        }
        catch (IOException)
        {
            // Unreadable procfs (sandboxes): the caller falls back to the process figures.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return kb / 1024.0;
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
