using System.Globalization;
using System.Text.Json.Nodes;
using Mhc.Models;
using Mhc.Models.Layers;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// What mHC costs next to a residual connection: training-step time of residual, HC and mHC (n = 4) on (a) the
/// main job's Hyper-ResNet, (b) the text sample's decoder and (c) a 64-block pre-norm MLP stack, timed
/// interleaved in one process; (d) generation speed of the decoder with its key/value cache; and a per-section
/// profile of every step and of a generated token. One thread throughout, so that figures do not depend on
/// what else runs on the machine's other core.
/// </summary>
public sealed class MixingSuite : IBenchmarkSuite
{
    /// <summary>Intra-op threads of every timing (one, so figures do not depend on the machine's other core).</summary>
    internal const int Threads = 1;

    private static readonly ConnectionKind[] Kinds = [ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc];

    /// <inheritdoc />
    public string Name => "mixing";

    /// <inheritdoc />
    public string Description => "step time of residual, HC and mHC on three networks; generation speed; per-section profile";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        OnOneThread(run, (sizes, data) =>
        {
            var profile = new JsonObject();
            Network(run, sizes, profile, "resnet", kind => MixingWorkload.Resnet(kind, sizes, data));
            Network(run, sizes, profile, "decoder", kind => MixingWorkload.Decoder(kind, sizes, data));
            Network(run, sizes, profile, "mlp", kind => MixingWorkload.Mlp(kind, sizes, data));

            using var generation = new MixingGeneration(sizes, data);
            double rate = generation.CharactersPerSecond(sizes.GeneratedCharacters, sizes.GenerationRepeats);
            run.Log($"generation: {rate:F1} chars/s ({sizes.GeneratedCharacters} new characters, KV cache, {Threads} thread)");
            profile["generate"] = generation.Profile(sizes.GeneratedCharacters);
            run.Log($"  per token (ms): {Describe(profile["generate"]!.AsObject())}");
            run.Add("generate_chars_per_second", rate);
            run.Add("threads", Threads);
            run.Add("profile", profile);
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the run's sizes and data on <see cref="Threads"/> intra-op threads, restoring
    /// the thread count afterwards: the set-up every mixing suite shares.
    /// </summary>
    internal static void OnOneThread(BenchmarkRun run, Action<MixingSizes, MixingData> body)
    {
        MhcEnvironment.EnsureTorch();
        var sizes = run.Quick ? MixingSizes.Quick : MixingSizes.Full;
        var data = MixingData.Load();
        int previousThreads = get_num_threads();
        set_num_threads(Threads);
        try
        {
            body(sizes, data);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    /// <summary>Times residual, HC and mHC on one network interleaved, adds its two ratios, and profiles each step into <paramref name="profile"/>.</summary>
    internal static void Network(BenchmarkRun run, MixingSizes sizes, JsonObject profile, string name, Func<ConnectionKind, MixingWorkload> build)
    {
        var workloads = Kinds.Select(build).ToList();
        try
        {
            var (medians, cpu) = InterleavedTimer.MedianTimes(
                workloads.Select(w => (Label(w.Kind), (Action)w.Step)).ToList(), sizes.Warmup, sizes.Repeats);
            double residual = medians[Label(ConnectionKind.Residual)];
            run.Log($"{name}: step ms residual {residual:F1}, hc {medians[Label(ConnectionKind.Hc)]:F1}, mhc {medians[Label(ConnectionKind.Mhc)]:F1}");
            run.Add($"{name}_mhc_over_residual", medians[Label(ConnectionKind.Mhc)] / residual);
            run.Add($"{name}_hc_over_residual", medians[Label(ConnectionKind.Hc)] / residual);
            // The same rounds in thread CPU time: on a shared machine, the figure that leaves out other processes' turns.
            double residualCpu = cpu[Label(ConnectionKind.Residual)];
            run.Log($"{name}: step CPU ms residual {residualCpu:F1}, hc {cpu[Label(ConnectionKind.Hc)]:F1}, mhc {cpu[Label(ConnectionKind.Mhc)]:F1}");
            run.Add($"{name}_mhc_over_residual_cpu", cpu[Label(ConnectionKind.Mhc)] / residualCpu);
            run.Add($"{name}_hc_over_residual_cpu", cpu[Label(ConnectionKind.Hc)] / residualCpu);
            var perKind = new JsonObject();
            foreach (var w in workloads)
            {
                var sections = MixingProfile.TrainingStep(w, sizes.ProfileSteps);
                sections["step"] = MixingProfile.Round(medians[Label(w.Kind)]);
                run.Log($"  {Label(w.Kind)} profile (ms): {Describe(sections)}");
                perKind[Label(w.Kind)] = sections;
            }
            profile[name] = perKind;
        }
        finally
        {
            foreach (var w in workloads) w.Dispose();
        }
    }

    private static string Label(ConnectionKind kind) => kind.ToString().ToLowerInvariant();

    private static string Describe(JsonObject sections) => string.Join(", ", sections
        .Where(kv => kv.Value is JsonValue)
        .Select(kv => $"{kv.Key} {kv.Value!.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture)}"));
}
