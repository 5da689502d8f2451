using System.Globalization;

namespace Mhc.Models.Native;

/// <summary>
/// How many CPUs other processes kept busy since the previous sample: the machine's busy time (<c>/proc/stat</c>)
/// minus this process's own (<c>/proc/self/stat</c>), over the machine's elapsed CPU time. Both files count in the
/// same clock ticks, so the difference needs no unit conversion. Time the hypervisor gave to other guests (steal)
/// counts as busy: it is a core this process did not get either.
/// </summary>
/// <remarks>
/// Only meaningful where this process may use every CPU that <c>/proc/stat</c> counts: under a cgroup CPU quota or an
/// affinity mask, the machine-wide figure says nothing about the CPUs left to this process, so
/// <see cref="TryCreate"/> declines there.
/// </remarks>
internal sealed class CpuShareSampler
{
    private const string MachineStat = "/proc/stat", ProcessStat = "/proc/self/stat";

    private readonly int cpus;
    private long machineBusy, machineTotal, processBusy;

    private CpuShareSampler(int cpus, (long Busy, long Total) machine, long process)
    {
        this.cpus = cpus;
        (machineBusy, machineTotal) = machine;
        processBusy = process;
    }

    /// <summary>CPUs of the machine (all usable by this process).</summary>
    public int Cpus => cpus;

    /// <summary>A sampler whose first interval starts now, or null where the figures cannot be read or attributed (see remarks).</summary>
    public static CpuShareSampler? TryCreate()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var lines = File.ReadAllLines(MachineStat);
            int machineCpus = lines.Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsAsciiDigit(l[3]));
            if (machineCpus < 1 || machineCpus != Environment.ProcessorCount) return null;
            return new CpuShareSampler(machineCpus, ParseMachine(lines[0]), ReadProcess());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>CPUs other processes kept busy since the previous call (0..<see cref="Cpus"/>), or null when no tick has passed or the files cannot be read.</summary>
    public double? OthersBusySinceLast()
    {
        try
        {
            using var reader = new StreamReader(MachineStat);
            var (busy, total) = ParseMachine(reader.ReadLine() ?? "");
            long process = ReadProcess();
            long elapsed = total - machineTotal;
            if (elapsed <= 0) return null;
            double others = (double)(busy - machineBusy - (process - processBusy)) / elapsed * cpus;
            (machineBusy, machineTotal, processBusy) = (busy, total, process);
            return Math.Clamp(others, 0, cpus);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The aggregate <c>cpu</c> line: busy = user + nice + system + irq + softirq + steal; total adds idle and iowait.</summary>
    internal static (long Busy, long Total) ParseMachine(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 9 || f[0] != "cpu") throw new FormatException($"Unexpected first line of {MachineStat}: '{line}'.");
        long Field(int i) => long.Parse(f[i], NumberStyles.None, CultureInfo.InvariantCulture);
        long busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        return (busy, busy + Field(4) + Field(5));
    }

    /// <summary>This process's user + system ticks (fields 14 and 15; the command name in field 2 may contain spaces, so count from its closing parenthesis).</summary>
    private static long ReadProcess()
    {
        var text = File.ReadAllText(ProcessStat);
        var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(f[11], NumberStyles.None, CultureInfo.InvariantCulture) + long.Parse(f[12], NumberStyles.None, CultureInfo.InvariantCulture);
    }
}
