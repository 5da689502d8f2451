using Mhc.Models.Diagnostics;
using Mhc.Models.Layers;
using Mhc.Samples.Data;
using Mhc.Samples.Networks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Benchmarks;

/// <summary>
/// The <c>mhc</c> package's claim "~10 % additional compute for 4x history": the training step (forward, backward,
/// Adam) of the depth study's 50-block pre-norm MLP (the package's 50 layers) with plain residual connections, with the
/// history-window skip over H = 4 states (4x history) and over H = 1 (the skip machinery without extra history),
/// interleaved, warm, median; and the forward profiler's split of the H = 4 stack's forward time between the branches
/// and the skips.
/// </summary>
public sealed class HistoryOverheadSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "history-overhead";

    /// <inheritdoc />
    public string Description => "step time of a 50-block MLP with the history-window skip (H = 4, H = 1) against residual connections";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        int depth = run.Quick ? 8 : 50, batch = 64, warmup = run.Quick ? 1 : 5, repeats = run.Quick ? 3 : 41;
        var digits = MnistDigits.Load();
        using var scope = NewDisposeScope();
        var (x, y) = FlatDigits.ToTensors(digits.Examples, batch);
        var models = new (string Name, DeepStackConnection Connection)[]
        {
            ("residual", DeepStackConnection.For(ConnectionKind.Residual)),
            ("history_h4", DeepStackConnection.Skip("history", new HistoryWindowSkipOptions { MaxHistory = 4 })),
            ("history_h1", DeepStackConnection.Skip("history", new HistoryWindowSkipOptions { MaxHistory = 1 })),
        }.Select(m => (m.Name, Model: new DeepStack(m.Connection, depth, 64, 1, MnistDigits.PixelCount, MnistDigits.ClassCount))).ToList();
        var optimizers = models.Select(m => optim.Adam(m.Model.parameters(), 1e-3)).ToList();

        int threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            var times = InterleavedTimer.MedianMilliseconds(models.Select((m, i) => (m.Name, (Action)(() =>
            {
                using var step = NewDisposeScope();
                optimizers[i].zero_grad();
                functional.cross_entropy(m.Model.forward(x), y).backward();
                optimizers[i].step();
            }))).ToList(), warmup, repeats);
            double h4 = times["history_h4"] / times["residual"] - 1, h1 = times["history_h1"] / times["residual"] - 1;
            run.Log($"{depth}-block MLP, width 64, batch {batch}, 1 torch thread: residual {times["residual"]:F2} ms, history H = 4 {times["history_h4"]:F2} ms " +
                $"({100 * h4:F0} % more), history H = 1 {times["history_h1"]:F2} ms ({100 * h1:F0} % more)");
            run.Add("history_overhead_depth", depth);
            run.Add("history_overhead_residual_step_ms", times["residual"]);
            run.Add("history_overhead_h4_step_ms", times["history_h4"]);
            run.Add("history_overhead_h1_step_ms", times["history_h1"]);
            run.Add("history_overhead_h4", h4);
            run.Add("history_overhead_h1", h1);

            // Where the forward time of the H = 4 stack goes, by the forward profiler (branches vs skips).
            var history = models[1].Model;
            using var profiler = ForwardProfiler.Start(history.History!, (name, _) => name.StartsWith("layers.", StringComparison.Ordinal) || name.StartsWith("skips.", StringComparison.Ordinal));
            using (no_grad())
                for (int i = 0; i < repeats; i++)
                {
                    using var step = NewDisposeScope();
                    history.forward(x);
                }
            var summary = profiler.Summary();
            double branches = summary.Where(t => t.Name.StartsWith("layers.", StringComparison.Ordinal)).Sum(t => t.TotalMilliseconds);
            double skips = summary.Where(t => t.Name.StartsWith("skips.", StringComparison.Ordinal)).Sum(t => t.TotalMilliseconds);
            run.Log($"forward profiler, H = 4: branches {branches / repeats:F2} ms, skips {skips / repeats:F2} ms per forward ({100 * skips / (branches + skips):F0} % in the skips)");
            run.Add("history_profile_branch_ms", branches / repeats);
            run.Add("history_profile_skip_ms", skips / repeats);
        }
        finally
        {
            torch.set_num_threads(threads);
            foreach (var o in optimizers) o.Dispose();
            foreach (var m in models) m.Model.Dispose();
        }
    }
}
