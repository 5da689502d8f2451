using Mhc.Samples.Figures;

namespace Mhc.Samples.Tests.Figures;

public class PeakMemoryTests
{
    [Fact]
    public void ParsesKilobyteFieldsFromProcStatus()
    {
        const string status = "Name:\tdotnet\nVmPeak:\t 9000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   100 kB\n";

        Assert.Equal(123456, PeakMemory.ParseStatusKilobytes(status, "VmHWM"));
        Assert.Equal(100, PeakMemory.ParseStatusKilobytes(status, "VmRSS"));
        Assert.Null(PeakMemory.ParseStatusKilobytes(status, "VmSwap"));
        Assert.Null(PeakMemory.ParseStatusKilobytes("VmHWM:\tlots\n", "VmHWM"));
    }

    [Fact]
    public void PeakCoversMemoryTheProcessTouched()
    {
        var block = new byte[64 * 1024 * 1024];
        for (int i = 0; i < block.Length; i += 4096)
        {
            block[i] = 1; // Touch every page so it becomes resident.
        }

        double peak = PeakMemory.PeakResidentMegabytes();

        Assert.True(peak >= 64, $"peak {peak:F1} MB is below the 64 MB just touched");
        Assert.True(peak < 1024 * 1024, $"peak {peak:F1} MB is implausible");
        GC.KeepAlive(block);
    }
}
