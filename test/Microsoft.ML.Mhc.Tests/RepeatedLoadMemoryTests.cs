using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Mhc.Persistence;
using Xunit.Abstractions;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>A service that reloads its model must not grow: issue 12 measured +110 MB of resident memory per reload.</summary>
public sealed class RepeatedLoadMemoryTests(ITestOutputHelper output)
{
    private const int Loads = 30;
    private const int Window = 5; // loads 3-7 against loads 26-30, medians: single readings jump by ~20 MB

    // A wider net than the other tests use, so that a leaked network (0.6 MB of weights, ~3 MB with its encoded and
    // decoded copies) adds up to more than the allowed growth over the loads.
    private static ITransformer Train(MLContext ml, IDataView train)
    {
        var options = TestData.TinyOptions(epochs: 1);
        options.BaseWidth = 32;
        return TestData.Pipeline(ml, options).Fit(train);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ThirtyLoads_WithTransformAndEvaluate_KeepMemoryFlat(bool dispose)
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(TestData.Bars(10, seed: 1));
        var path = TestData.TempPath("reload.zip");
        var model = Train(ml, train);
        using ((IDisposable)model)
            MhcModelFile.Save(ml, model, train.Schema, path);
        var rows = TestData.Bars(100, seed: 2); // 300 rows, each its own forward pass in a loaded model

        var rss = new List<double>();
        var managed = new List<double>();
        for (int load = 1; load <= Loads; load++)
        {
            var context = new MLContext(seed: load);
            var loaded = context.Model.Load(path, out _);
            var scored = loaded.Transform(context.Data.LoadFromEnumerable(rows));
            var metrics = context.MulticlassClassification.Evaluate(scored, "Label");
            Assert.InRange(metrics.MicroAccuracy, 0, 1);
            if (dispose) Assert.Equal(1, SavedNetworks.Release(loaded));

            // No forced collection: a service relies on the ones the runtime starts by itself.
            rss.Add(ResidentMegabytes());
            managed.Add(GC.GetTotalMemory(forceFullCollection: false) / 1048576.0);
        }
        double rssGrowth = Median(rss.TakeLast(Window)) - Median(rss.Skip(2).Take(Window));
        double managedGrowth = Median(managed.TakeLast(Window)) - Median(managed.Skip(2).Take(Window));
        output.WriteLine($"dispose {dispose}: resident MB per load: {string.Join(", ", rss.Select(r => r.ToString("F0")))}");
        output.WriteLine($"managed MB per load: {string.Join(", ", managed.Select(r => r.ToString("F1")))}");
        output.WriteLine($"growth, median of the last {Window} loads minus median of loads 3-{2 + Window}: resident {rssGrowth:F1} MB, managed {managedGrowth:F1} MB");
        // The leak of issue 12 (+80 MB managed, +110 MB resident per load) would be gigabytes here, a leaked network per
        // load about 80 MB. Between forced collections single managed readings vary by up to 45 MB, hence medians.
        Assert.True(managedGrowth < 60, $"managed memory grew {managedGrowth:F1} MB over {Loads - 2 - Window} loads: {string.Join(", ", managed.Select(r => r.ToString("F1")))}");
        Assert.True(rssGrowth < 100, $"resident memory grew {rssGrowth:F1} MB over {Loads - 2 - Window} loads: {string.Join(", ", rss.Select(r => r.ToString("F0")))}");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static double ResidentMegabytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / 1048576.0;
    }
}
