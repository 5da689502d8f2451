using System.Diagnostics;
using Mhc.Models.Layers;

namespace Benchmarks;

/// <summary>
/// Runs the Hyper-ResNet mHC training step of <see cref="MixingSuite"/> in a loop for a fixed time (one thread), so
/// that an outside profiler (<c>perf record -g -p PID</c>) samples nothing else; <c>MHC_LOOP_SECONDS</c> sets the
/// time (default 20) and <c>MHC_LOOP_CONNECTION</c> the connection (default mhc).
/// </summary>
public sealed class MixingLoopSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "mixing-loop";

    /// <inheritdoc />
    public string Description => "the Hyper-ResNet training step in a loop, for an outside profiler";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("MHC_LOOP_SECONDS"), out var s) ? s : run.Quick ? 1 : 20;
        var kind = Enum.Parse<ConnectionKind>(Environment.GetEnvironmentVariable("MHC_LOOP_CONNECTION") ?? "mhc", ignoreCase: true);
        MixingSuite.OnOneThread(run, (sizes, data) =>
        {
            using var workload = MixingWorkload.Resnet(kind, sizes, data);
            for (int i = 0; i < sizes.Warmup; i++) workload.Step();
            run.Log($"looping {kind} steps for {seconds} s (pid {Environment.ProcessId})");
            var watch = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            int steps = 0;
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                workload.Step();
                steps++;
            }
            double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            // CPU time per step leaves out the time other processes held the core (a loaded machine's main noise).
            run.Log($"{steps} steps, {watch.Elapsed.TotalMilliseconds / steps:F2} ms per step, {cpuMs / steps:F2} ms CPU per step");
        });
    }
}
