using System.Text.Json.Nodes;
using Mhc.Models.Layers;

namespace Benchmarks;

/// <summary>
/// Per-section milliseconds of one training step (forward and backward of the dynamic projection and its
/// norm, Sinkhorn, stream mixing, the branches, the optimizer, and the rest) from <see cref="MixingProfiler"/>.
/// </summary>
public static class MixingProfile
{
    /// <summary>The sections a hyper-connection's time is split into, besides "other".</summary>
    public static IReadOnlyList<string> Sections { get; } =
        [MixingProfiler.PhiNorm, MixingProfiler.Sinkhorn, MixingProfiler.Mixing, MixingProfiler.Branch];

    /// <summary>
    /// Profiles <paramref name="steps"/> training steps of <paramref name="workload"/> (after one untimed step)
    /// and returns the median milliseconds per section: forward, backward, and both together with the optimizer.
    /// </summary>
    public static JsonObject TrainingStep(MixingWorkload workload, int steps)
    {
        var rows = new List<Dictionary<string, double>>();
        using var profiler = MixingProfiler.Start();
        workload.Step(profiler);
        for (int i = 0; i < steps; i++)
        {
            profiler.Reset();
            var times = workload.Step(profiler);
            var row = new Dictionary<string, double>();
            Split("forward", profiler.ForwardMilliseconds, times.Forward, row);
            Split("backward", profiler.BackwardMilliseconds, times.Backward, row);
            row["optimizer"] = times.Optimizer;
            row["profiled_step"] = times.Forward + times.Backward + times.Optimizer;
            rows.Add(row);
        }
        var median = rows[0].Keys.ToDictionary(k => k, k => InterleavedTimer.Median(rows.Select(r => r[k]).ToList()));
        var result = new JsonObject();
        foreach (var section in Sections.Append(MixingProfiler.Other))
            result[section] = Round(median[$"forward_{section}"] + median[$"backward_{section}"]);
        result["optimizer"] = Round(median["optimizer"]);
        result["profiled_step"] = Round(median["profiled_step"]);
        var forward = new JsonObject();
        var backward = new JsonObject();
        foreach (var section in Sections.Append(MixingProfiler.Other))
        {
            forward[section] = Round(median[$"forward_{section}"]);
            backward[section] = Round(median[$"backward_{section}"]);
        }
        result["forward"] = forward;
        result["backward"] = backward;
        return result;
    }

    /// <summary>
    /// Splits a phase's <paramref name="total"/> milliseconds into the profiled sections and "other" (the rest).
    /// </summary>
    public static void Split(string phase, IReadOnlyDictionary<string, double> sections, double total, IDictionary<string, double> into)
    {
        double attributed = 0;
        foreach (var section in Sections)
        {
            double ms = sections.GetValueOrDefault(section);
            into[$"{phase}_{section}"] = ms;
            attributed += ms;
        }
        into[$"{phase}_{MixingProfiler.Other}"] = Math.Max(0, total - attributed);
    }

    /// <summary>Milliseconds rounded to microseconds, for the JSON.</summary>
    public static double Round(double ms) => Math.Round(ms, 3);
}
