using System.Diagnostics;
using Mhc.Models.Native;
using TorchSharp;

namespace Mhc.Models.Tests.Native;

public class LoadAdaptiveThreadsTests
{
    [Theory]
    [InlineData(0.0, 2, 2, 2)]
    [InlineData(0.4, 2, 2, 2)] // background noise: keep both threads
    [InlineData(0.6, 2, 2, 1)]
    [InlineData(1.0, 2, 2, 1)] // one busy neighbour on 2 cores: the free core
    [InlineData(2.0, 2, 2, 1)] // never below one
    [InlineData(1.0, 8, 4, 4)] // never above the team the loop started with
    [InlineData(5.2, 8, 8, 3)]
    public void TargetThreads_AreTheCpusLeftFree(double others, int cpus, int ceiling, int expected) =>
        Assert.Equal(expected, LoadAdaptiveThreads.TargetThreads(others, cpus, ceiling));

    [Fact]
    public void TeamChanges_OnlyAfterTwoAgreeingReadings_AndIsPutBack()
    {
        var applied = new List<int>();
        using (var team = new LoadAdaptiveThreads(() => 0, cpus: 2, ceiling: 2, applied.Add))
        {
            team.Observe(1.0);
            Assert.Equal(2, team.Threads); // one busy reading: maybe a spike
            team.Observe(0.1);
            team.Observe(1.0);
            Assert.Equal(2, team.Threads); // the spike did not last
            team.Observe(1.0);
            Assert.Equal(1, team.Threads);
            team.Observe(0.0);
            team.Observe(0.0);
            Assert.Equal(2, team.Threads); // the neighbour left
            team.Observe(1.0);
            team.Observe(1.0);
            Assert.Equal([1, 2, 1], applied);
            Assert.Equal(3, team.Changes);
        }
        Assert.Equal([1, 2, 1, 2], applied); // disposal restores the starting team
    }

    [Fact]
    public void Disabled_OrOneThread_IsInert()
    {
        using var off = LoadAdaptiveThreads.Enter(enabled: false);
        Assert.False(off.Active);
        FreshThread.Run(() =>
        {
            using (IntraOpThreadLimit.Enter(1))
            {
                using var one = LoadAdaptiveThreads.Enter(enabled: true);
                Assert.False(one.Active);
            }
        });
    }

    [Fact]
    public void Sampler_SeesABusyNeighbour()
    {
        if (CpuShareSampler.TryCreate() is not { } sampler) return; // not Linux, or a CPU quota: the team stays fixed there
        using var neighbour = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "end=$(($(date +%s) + 3)); while [ $(date +%s) -lt $end ]; do :; done"]))!;
        try
        {
            Thread.Sleep(300);
            sampler.OthersBusySinceLast();
            Thread.Sleep(1000);
            // The shell loop keeps one CPU busy (less only if the test machine is oversubscribed; other processes add to it).
            Assert.InRange(sampler.OthersBusySinceLast() ?? -1, 0.6, sampler.Cpus);
        }
        finally
        {
            if (!neighbour.HasExited) neighbour.Kill();
        }
    }

    [Fact]
    public void Sampler_ParsesTheAggregateCpuLine()
    {
        var (busy, total) = CpuShareSampler.ParseMachine("cpu  100 5 20 1000 7 1 2 3 0 0");
        Assert.Equal(100 + 5 + 20 + 1 + 2 + 3, busy);
        Assert.Equal(busy + 1000 + 7, total);
        Assert.Throws<FormatException>(() => CpuShareSampler.ParseMachine("intr 12 3"));
    }

    [Fact]
    public void Tick_AppliesTheTeamToTheCallingThread()
    {
        MhcEnvironment.EnsureTorch();
        if (!OperatingSystem.IsLinux() || !OpenMPRuntime.CanSetThreadTeamSize) return;
        FreshThread.Run(() =>
        {
            torch.get_num_threads();
            OpenMPRuntime.SetThreadsOfThisThread(2);
            MklThreads.SetForThisThread(2);
            double busy = 1.5;
            using (var team = new LoadAdaptiveThreads(() => busy, cpus: 2, ceiling: 2))
            {
                for (int i = 0; i < 2; i++)
                {
                    Thread.Sleep(LoadAdaptiveThreads.SampleInterval + TimeSpan.FromMilliseconds(20));
                    team.Tick();
                }
                Assert.Equal(1, team.Threads);
                Assert.Equal(1, torch.get_num_threads());
                Assert.Equal(1, MklThreads.MaxForThisThread());
            }
            Assert.Equal(2, torch.get_num_threads());
        });
    }
}
