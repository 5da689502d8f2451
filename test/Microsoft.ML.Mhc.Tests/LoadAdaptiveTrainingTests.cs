using Mhc.Models;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>The training loop lets its thread team follow the load unless the run fixes its thread count.</summary>
public sealed class LoadAdaptiveTrainingTests
{
    // Where the machine-wide CPU figures belong to this process's CPUs (Linux, no quota or affinity subset), as the
    // library itself requires before it adapts.
    private static bool CanAdapt() =>
        OperatingSystem.IsLinux() && Environment.ProcessorCount >= 2 && MhcEnvironment.RuntimeOptions.AdaptThreadsToLoad
        && File.ReadAllLines("/proc/stat").Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3]))
            == Environment.ProcessorCount;

    private static string TrainingLine(int threads)
    {
        var ml = new MLContext(seed: 1);
        var lines = new List<string>();
        var options = TestData.TinyOptions(epochs: 1);
        options.NumberOfThreads = threads;
        options.Log = lines.Add;
        TestData.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(TestData.Bars(5, seed: 1)));
        return lines.Single(l => l.StartsWith("training on cpu", StringComparison.Ordinal));
    }

    [Fact]
    public void DefaultThreads_FollowTheLoad_AFixedCountDoesNot()
    {
        const string adapts = "fewer while other processes keep CPUs busy";
        Assert.DoesNotContain(adapts, TrainingLine(threads: 1));
        if (CanAdapt()) Assert.Contains(adapts, TrainingLine(threads: 0));
        else Assert.DoesNotContain(adapts, TrainingLine(threads: 0));
    }
}
