using Mhc.Models;
using Mhc.Models.Native;
using TorchSharp;

namespace Mhc.Models.Tests.Native;

/// <summary>Runs a body on a new thread (its OpenMP settings are its own) and rethrows its failure.</summary>
internal static class FreshThread
{
    public static void Run(Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new Xunit.Sdk.XunitException($"On the fresh thread: {failure}");
    }
}

public class ThreadingTests
{
    private static int ThreadsOnAnotherThread()
    {
        int threads = 0;
        FreshThread.Run(() => threads = torch.get_num_threads());
        return threads;
    }

    [Fact]
    public void DefaultWaitPolicy_IsInTheNativeEnvironment_BeforeLibTorchsOpenMPLoaded()
    {
        MhcEnvironment.EnsureTorch();
        if (!OperatingSystem.IsLinux() || MhcEnvironment.RuntimeOptions.WorkerWait != OpenMPWaitPolicy.Brief) return;
        // libgomp reads GOMP_SPINCOUNT with getenv when it loads: it must be in libc's environment, not only .NET's copy.
        Assert.Equal(OpenMPRuntime.BriefSpinCount.ToString(), OpenMPRuntime.GetNativeEnvironment(OpenMPRuntime.GnuSpinCountVariable));
        Assert.Null(Environment.GetEnvironmentVariable(OpenMPRuntime.GnuSpinCountVariable));
        var runtime = OpenMPRuntime.LoadedRuntimePath();
        Assert.NotNull(runtime);
        Assert.StartsWith("libgomp", Path.GetFileName(runtime));
        Assert.Contains($"GOMP_SPINCOUNT={OpenMPRuntime.BriefSpinCount}", MhcEnvironment.EnsureTorch().Threading);
    }

    [Fact]
    public void ThreadLimit_AppliesToTheCallingThreadOnly_AndIsUndone()
    {
        MhcEnvironment.EnsureTorch();
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(OpenMPRuntime.CanSetThreadTeamSize);
        FreshThread.Run(() =>
        {
            int others = ThreadsOnAnotherThread();
            torch.get_num_threads();
            OpenMPRuntime.SetThreadsOfThisThread(3); // this thread only; the process default stays
            MklThreads.SetForThisThread(3);
            Assert.Equal(3, torch.get_num_threads());
            using (IntraOpThreadLimit.Enter(1))
            {
                Assert.Equal(1, torch.get_num_threads());
                Assert.Equal(1, MklThreads.MaxForThisThread()); // MKL's GEMM sizes its own team
                Assert.Equal(others, ThreadsOnAnotherThread());
                using var x = torch.randn(64, 64);
                Assert.Equal(64, x.matmul(x).shape[0]);
            }
            Assert.Equal(3, torch.get_num_threads());
            Assert.Equal(3, MklThreads.MaxForThisThread());
            using (IntraOpThreadLimit.Enter(0)) Assert.Equal(3, torch.get_num_threads()); // 0: no limit
            using (IntraOpThreadLimit.Enter(5)) Assert.Equal(3, torch.get_num_threads()); // never raises
        });
    }

    [Fact]
    public void SingleRowScoring_UsesTheConfiguredLimit()
    {
        MhcEnvironment.EnsureTorch();
        if (!OperatingSystem.IsLinux()) return;
        var original = MhcEnvironment.RuntimeOptions;
        FreshThread.Run(() =>
        {
            torch.get_num_threads();
            OpenMPRuntime.SetThreadsOfThisThread(4);
            try
            {
                MhcEnvironment.Configure(original with { SingleRowScoringThreads = 1 });
                using (MhcEnvironment.EnterSingleRowScoring()) Assert.Equal(1, torch.get_num_threads());
                MhcEnvironment.Configure(original with { SingleRowScoringThreads = 2 });
                using (MhcEnvironment.EnterSingleRowScoring()) Assert.Equal(2, torch.get_num_threads());
                MhcEnvironment.Configure(original with { SingleRowScoringThreads = 0 });
                using (MhcEnvironment.EnterSingleRowScoring()) Assert.Equal(4, torch.get_num_threads());
            }
            finally
            {
                MhcEnvironment.Configure(original);
            }
            Assert.Equal(4, torch.get_num_threads());
        });
    }

    [Fact]
    public void Configure_RejectsAWaitPolicyChange_AndBadCounts_WithTheOptionNamed()
    {
        var current = MhcEnvironment.RuntimeOptions;
        var other = current.WorkerWait == OpenMPWaitPolicy.Passive ? OpenMPWaitPolicy.Brief : OpenMPWaitPolicy.Passive;
        var e = Assert.Throws<InvalidOperationException>(() => MhcEnvironment.Configure(current with { WorkerWait = other }));
        Assert.Contains(MhcRuntimeOptions.WorkerWaitVariable, e.Message);
        Assert.Contains(MhcRuntimeOptions.WorkerWaitSetting, e.Message);
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => MhcEnvironment.Configure(current with { SingleRowScoringThreads = -1 }));
        Assert.Equal(nameof(MhcRuntimeOptions.SingleRowScoringThreads), bad.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => MhcEnvironment.Configure(current with { IntraOpThreads = -2 }));
        Assert.Same(current, MhcEnvironment.RuntimeOptions);
    }

    [Fact]
    public void IntraOpThreads_Auto_TakesTheCpusAvailable_NeverMoreThanLibTorchsDefault()
    {
        var auto = new MhcRuntimeOptions();
        Assert.Equal(2, auto.IntraOpThreadsFor(libTorchDefault: 8, availableCpus: 2)); // container quota or affinity of 2 CPUs
        Assert.Equal(4, auto.IntraOpThreadsFor(libTorchDefault: 4, availableCpus: 16)); // OMP_NUM_THREADS=4 is kept
        Assert.Equal(1, auto.IntraOpThreadsFor(libTorchDefault: 1, availableCpus: 1));
        Assert.Equal(3, new MhcRuntimeOptions { IntraOpThreads = 3 }.IntraOpThreadsFor(8, 2));
    }
}

/// <summary>Environment parsing changes process variables and CPU time is measured per process, so these run alone.</summary>
[CollectionDefinition(nameof(RuntimeOptionsEnvironmentTests), DisableParallelization = true)]
public sealed class RuntimeOptionsEnvironmentCollection;

[Collection(nameof(RuntimeOptionsEnvironmentTests))]
public class RuntimeOptionsEnvironmentTests
{
    private static readonly string[] Variables =
    [
        MhcRuntimeOptions.WorkerWaitVariable, MhcRuntimeOptions.IntraOpThreadsVariable, MhcRuntimeOptions.SingleRowScoringThreadsVariable, MhcRuntimeOptions.AdaptThreadsToLoadVariable,
        MhcRuntimeOptions.OneDnnConvolutionsVariable, MhcRuntimeOptions.QuietGcDuringStepsVariable, MhcRuntimeOptions.NoAllocatorTuningVariable,
        MhcRuntimeOptions.NativeCacheDirectoryVariable,
        "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME",
    ];

    private static MhcRuntimeOptions With(params (string Name, string Value)[] variables)
    {
        var saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var v in Variables) Environment.SetEnvironmentVariable(v, null);
            foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
            return MhcRuntimeOptions.FromEnvironment();
        }
        finally
        {
            foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Fact]
    public void BriefWait_TookEffect_IdleWorkersDoNotBurnTheCpu()
    {
        MhcEnvironment.EnsureTorch();
        if (!OperatingSystem.IsLinux() || MhcEnvironment.RuntimeOptions.WorkerWait != OpenMPWaitPolicy.Brief || Environment.ProcessorCount < 2) return;
        // One parallel op (1M elements: both threads) every 5 ms. With libgomp's default wait every idle worker spins
        // ~3 ms after each op; with the brief wait it sleeps almost at once. Measured per op on 2 cores, this test alone:
        // runtime default 5.5-8.3 ms, brief 0.5-3.1 ms (two modes from run to run), passive 0.35 ms; brief rose to
        // 3.6-3.9 ms while the other test assemblies ran beside it. 4.5 ms keeps about 1 ms to either side.
        using var x = torch.randn(1000, 1000);
        FreshThread.Run(() =>
        {
            torch.get_num_threads();
            OpenMPRuntime.SetThreadsOfThisThread(2);
            for (int i = 0; i < 5; i++) x.add_(1);
            var process = System.Diagnostics.Process.GetCurrentProcess();
            var before = process.TotalProcessorTime;
            const int ops = 100;
            for (int i = 0; i < ops; i++)
            {
                x.add_(1);
                Thread.Sleep(5);
            }
            process.Refresh();
            double cpuMsPerOp = (process.TotalProcessorTime - before).TotalMilliseconds / ops;
            Assert.True(cpuMsPerOp < 4.5, $"{cpuMsPerOp:F2} ms of CPU per op: OpenMP workers still spin after each parallel region");
        });
    }

    [Fact]
    public void Defaults_BriefWait_AutoThreads_OneThreadPerScoredRow()
    {
        var o = With();
        Assert.Equal(OpenMPWaitPolicy.Brief, o.WorkerWait);
        Assert.Equal(0, o.IntraOpThreads);
        Assert.Equal(1, o.SingleRowScoringThreads);
        Assert.True(o.AdaptThreadsToLoad);
        Assert.Equal(new MhcRuntimeOptions(), o);
    }

    [Fact]
    public void Overrides_AreRead_AndAUsersOpenMPVariableWins()
    {
        var o = With((MhcRuntimeOptions.WorkerWaitVariable, "passive"), (MhcRuntimeOptions.IntraOpThreadsVariable, "3"),
            (MhcRuntimeOptions.SingleRowScoringThreadsVariable, "0"), (MhcRuntimeOptions.AdaptThreadsToLoadVariable, "0"));
        Assert.Equal(new MhcRuntimeOptions { WorkerWait = OpenMPWaitPolicy.Passive, IntraOpThreads = 3, SingleRowScoringThreads = 0, AdaptThreadsToLoad = false }, o);
        Assert.True(With((MhcRuntimeOptions.AdaptThreadsToLoadVariable, "true")).AdaptThreadsToLoad);
        var native = With((MhcRuntimeOptions.OneDnnConvolutionsVariable, "off"), (MhcRuntimeOptions.QuietGcDuringStepsVariable, "0"),
            (MhcRuntimeOptions.NoAllocatorTuningVariable, "1"), (MhcRuntimeOptions.NativeCacheDirectoryVariable, "/tmp/natives"));
        Assert.Equal(new MhcRuntimeOptions
        {
            OneDnnConvolutions = OneDnnConvolutionMode.Disable, QuietGcDuringSteps = false, TuneNativeAllocator = false, NativeCacheDirectory = "/tmp/natives",
        }, native);
        Assert.Equal(OneDnnConvolutionMode.Trust, With((MhcRuntimeOptions.OneDnnConvolutionsVariable, "on")).OneDnnConvolutions);
        Assert.True(With((MhcRuntimeOptions.NoAllocatorTuningVariable, "0")).TuneNativeAllocator);
        Assert.Equal(OpenMPWaitPolicy.RuntimeDefault, With((MhcRuntimeOptions.WorkerWaitVariable, "runtime-default")).WorkerWait);
        Assert.Equal(OpenMPWaitPolicy.RuntimeDefault, With(("GOMP_SPINCOUNT", "300000")).WorkerWait);
        Assert.Equal(OpenMPWaitPolicy.RuntimeDefault, With((MhcRuntimeOptions.WorkerWaitVariable, "brief"), ("OMP_WAIT_POLICY", "ACTIVE")).WorkerWait);
        Assert.Equal("OMP_WAIT_POLICY=PASSIVE", WithUserVariable());

        static string? WithUserVariable()
        {
            var saved = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY");
            try
            {
                Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
                return MhcRuntimeOptions.UserWaitVariable();
            }
            finally
            {
                Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", saved);
            }
        }
    }

    [Theory]
    [InlineData(MhcRuntimeOptions.WorkerWaitVariable, "sometimes")]
    [InlineData(MhcRuntimeOptions.WorkerWaitVariable, "1")]
    [InlineData(MhcRuntimeOptions.IntraOpThreadsVariable, "-1")]
    [InlineData(MhcRuntimeOptions.SingleRowScoringThreadsVariable, "two")]
    [InlineData(MhcRuntimeOptions.AdaptThreadsToLoadVariable, "maybe")]
    [InlineData(MhcRuntimeOptions.OneDnnConvolutionsVariable, "sometimes")]
    [InlineData(MhcRuntimeOptions.QuietGcDuringStepsVariable, "2")]
    public void BadValues_AreRejected_NamingTheVariable(string variable, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => With((variable, value)));
        Assert.Contains(variable, e.Message);
        Assert.Contains(value, e.Message);
    }
}
