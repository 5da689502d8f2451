using System.Diagnostics;
using System.Text.Json;
using Benchmarks;
using Mhc.Samples.Figures;
using Mhc.Samples.Tests.Data;

namespace Mhc.Samples.Tests.Samples;

/// <summary>The contention suite sets torch's process-wide thread count and loads the CPU, so it runs with the sample runs, alone.</summary>
[Collection(SampleRunCollection.Name)]
public class ContentionSuiteTests
{
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [Fact]
    public void Load_BurnsCpu_AndItsProcessesAreGoneAfterDispose()
    {
        if (!OperatingSystem.IsLinux()) return;
        int[] pids;
        using (var load = new ContentionLoad(2))
        {
            pids = [.. load.ProcessIds];
            Assert.Equal(2, pids.Length);
            // Each child runs until it is killed; how fast it gathers CPU time depends on what else runs.
            var deadline = Stopwatch.StartNew();
            while (pids.Any(pid => CpuSeconds(pid) < 0.2) && deadline.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(100);
            Assert.All(pids, pid => Assert.True(CpuSeconds(pid) >= 0.2, $"child {pid} used only {CpuSeconds(pid)} s of CPU in 20 s"));
            Assert.All(pids, pid => Assert.True(Alive(pid)));
        }
        Assert.All(pids, pid => Assert.False(Alive(pid), $"child {pid} still runs"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContentionLoad(0));
    }

    [Fact]
    public void Timer_AlternatesConditions_AndSeesTheLoad()
    {
        if (!OperatingSystem.IsLinux()) return;
        var busyDuringUnit = new List<bool>();
        int self = Environment.ProcessId;
        // Whether a competing child exists while the unit runs: children of this process whose command is the shell loop.
        bool ChildRuns() => Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => int.TryParse(n, out _))
            .Any(pid =>
            {
                try
                {
                    var stat = File.ReadAllText($"/proc/{pid}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    return fields[1] == self.ToString() && File.ReadAllText($"/proc/{pid}/cmdline").Contains("kill -0");
                }
                catch (IOException)
                {
                    return false;
                }
            });
        var timing = ContentionTimer.Measure(() => busyDuringUnit.Add(ChildRuns()), competitors: 1, rounds: 2, unitsPerBlock: 2,
            settle: TimeSpan.Zero, minimumBlock: TimeSpan.Zero);

        // Each round: one warm-up and two timed units per condition; round 0 is idle first, round 1 contended first.
        Assert.Equal([false, false, false, true, true, true, true, true, true, false, false, false], busyDuringUnit);
        Assert.True(timing.IdleMs > 0 && timing.ContendedMs > 0);
        Assert.Equal(timing.ContendedMs / timing.IdleMs, timing.Ratio);
    }

    [Fact]
    public void Timer_SettlesAndRunsBlocksForTheirMinimumTime()
    {
        int units = 0;
        // 10 ms units: 60 ms of settling and a 100 ms block need about 6 untimed and 10 timed units per block, 4 blocks.
        ContentionTimer.Measure(() => { units++; Thread.Sleep(10); }, competitors: 1, rounds: 2, unitsPerBlock: 1,
            settle: TimeSpan.FromMilliseconds(60), minimumBlock: TimeSpan.FromMilliseconds(100));
        Assert.InRange(units, 4 * (6 + 10) - 8, 4 * (6 + 10) + 4);
    }

    [Fact]
    public void QuickRun_WritesTheRatios_AndTheSettingsUsed()
    {
        using var dir = new TempDirectory();
        string json = dir.File("figures.json");
        var watch = Stopwatch.StartNew();

        int exit = Benchmarks.Program.Main(["--quick", "--suite", "contention", "--json", json]);

        Assert.Equal(0, exit);
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), $"the quick run took {watch.Elapsed}");
        var f = FiguresJson.Read(json);
        foreach (var key in new[] { "train_contended_over_idle", "predict_contended_over_idle", "contention_competing_processes",
                     "contention_train_resnet_t1_idle_ms_per_step", "contention_train_decoder_t1_contended_ms_per_step",
                     "contention_predict_t1_idle_ms_per_row", "contention_transform_t1_ratio" })
        {
            Assert.True(f.ContainsKey(key), $"missing figure '{key}'");
            Assert.Equal(JsonValueKind.Number, f[key].ValueKind);
            Assert.True(double.IsFinite(f[key].GetDouble()) && f[key].GetDouble() > 0, $"{key} = {f[key]}");
        }
        Assert.Equal(Math.Max(1, Environment.ProcessorCount - 1), f["contention_competing_processes"].GetInt32());
        Assert.Equal(Environment.ProcessorCount >= 2 ? "1,2" : "1", f["contention_threads"].GetString());
        Assert.False(string.IsNullOrEmpty(f["contention_worker_wait"].GetString()));
        Assert.Contains("intra-op threads", f["contention_threading"].GetString());
        if (Environment.ProcessorCount >= 2) Assert.True(f.ContainsKey("contention_train_resnet_t2_fixed_ratio"));
        // The worst ratio is the largest of the default configurations' (the fixed-team comparison is only reported).
        double worstTrain = f.Where(kv => kv.Key.StartsWith("contention_train_") && kv.Key.EndsWith("_ratio") && !kv.Key.EndsWith("_fixed_ratio"))
            .Max(kv => kv.Value.GetDouble());
        Assert.Equal(worstTrain, f["train_contended_over_idle"].GetDouble());
    }
}
