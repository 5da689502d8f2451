using System.Text.Json.Nodes;

namespace DepthStudy;

/// <summary>A grid point where mHC trained while another connection diverged or spiked more.</summary>
/// <param name="Depth">Blocks.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="MhcSpikes">mHC's spikes there.</param>
/// <param name="Beaten">The connections (residual, hc) that diverged or spiked more, with what happened.</param>
public sealed record MhcWin(int Depth, double LearningRate, int MhcSpikes, IReadOnlyList<string> Beaten);

/// <summary>All results of one study and what follows from them.</summary>
public sealed class StudyFigures(StudySettings settings, IReadOnlyList<CellResult> cells, PackageClaimResult? claim, double seconds)
{
    /// <summary>The run's settings.</summary>
    public StudySettings Settings { get; } = settings;

    /// <summary>Every cell, in grid order.</summary>
    public IReadOnlyList<CellResult> Cells { get; } = cells;

    /// <summary>The re-run of the package's own benchmark, if it ran.</summary>
    public PackageClaimResult? Claim { get; } = claim;

    /// <summary>Wall time of the whole study.</summary>
    public double Seconds { get; } = seconds;

    /// <summary>The cell of <paramref name="connection"/> at (<paramref name="depth"/>, <paramref name="lr"/>), or null.</summary>
    public CellResult? Cell(string connection, int depth, double lr) =>
        Cells.FirstOrDefault(c => c.Connection == connection && c.Depth == depth && c.LearningRate == lr);

    /// <summary>Largest composite forward gain over all cells of <paramref name="connection"/> (null when it did not run).</summary>
    public double? MaxGain(string connection) =>
        Cells.Where(c => c.Connection == connection).Select(c => c.MaxForwardGain).DefaultIfEmpty(double.NaN) is var g && Cells.Any(c => c.Connection == connection)
            ? g.Max() : null;

    /// <summary>Largest composite backward gain over all cells of <paramref name="connection"/>.</summary>
    public double? MaxBackwardGain(string connection) =>
        Cells.Any(c => c.Connection == connection) ? Cells.Where(c => c.Connection == connection).Max(c => c.MaxBackwardGain) : null;

    /// <summary>
    /// Grid points where mHC did not diverge while residual or HC diverged or had more loss spikes than mHC, deepest
    /// first, then fastest.
    /// </summary>
    public IReadOnlyList<MhcWin> MhcWins()
    {
        var wins = new List<MhcWin>();
        foreach (var depth in Settings.Depths)
            foreach (var lr in Settings.LearningRates)
            {
                if (Cell("mhc", depth, lr) is not { Diverged: false } mhc) continue;
                var beaten = new List<string>();
                foreach (var other in new[] { "residual", "hc" })
                {
                    if (Cell(other, depth, lr) is not { } o) continue;
                    if (o.Diverged) beaten.Add($"{other} diverged");
                    else if (o.Spikes > mhc.Spikes) beaten.Add($"{other} {o.Spikes} spikes");
                }
                if (beaten.Count > 0) wins.Add(new MhcWin(depth, lr, mhc.Spikes, beaten));
            }
        return wins.OrderByDescending(w => w.Depth).ThenByDescending(w => w.LearningRate).ToList();
    }

    /// <summary>The grid depth nearest the package's 50 layers.</summary>
    public int ClaimDepth => Settings.Depths.OrderBy(d => Math.Abs(d - 50)).ThenByDescending(d => d).First();

    /// <summary>At <see cref="ClaimDepth"/>: steps_to_target of residual over that of the history skip, per learning rate
    /// (null where either never reached the target).</summary>
    public IReadOnlyList<(double LearningRate, double? Speedup)> GridHistorySpeedup() => Settings.LearningRates.Select(lr =>
    {
        var r = Cell("residual", ClaimDepth, lr)?.StepsToTarget(Settings.TargetLoss);
        var h = Cell("history", ClaimDepth, lr)?.StepsToTarget(Settings.TargetLoss);
        return (lr, r is { } a && h is { } b ? (double?)a / b : null);
    }).ToList();

    /// <summary>The flat figures object with the <c>cells</c> array.</summary>
    public IEnumerable<KeyValuePair<string, object?>> ToJson(IReadOnlyList<string> charts)
    {
        var s = Settings;
        var f = new List<KeyValuePair<string, object?>>();
        void Add(string k, object? v) => f.Add(new(k, v));
        Add("dataset", "mnist-digits");
        Add("connections", Array(s.Connections.Select(c => (JsonNode?)c)));
        Add("depths", Array(s.Depths.Select(d => (JsonNode?)d)));
        Add("learning_rates", Array(s.LearningRates.Select(d => (JsonNode?)d)));
        Add("steps", s.Steps);
        Add("batch_size", s.BatchSize);
        Add("width", s.Width);
        Add("streams", s.Streams);
        Add("seed", s.Seed);
        Add("target_loss", s.TargetLoss);
        Add("quick", s.Quick);
        Add("cells", Array(Cells.Select(c => (JsonNode?)new JsonObject
        {
            ["connection"] = c.Connection,
            ["depth"] = c.Depth,
            ["learning_rate"] = c.LearningRate,
            ["final_loss"] = Number(c.FinalLoss),
            ["steps_to_target"] = c.StepsToTarget(s.TargetLoss),
            ["max_forward_gain"] = Number(c.MaxForwardGain),
            ["max_backward_gain"] = Number(c.MaxBackwardGain),
            ["spikes"] = c.Spikes,
            ["diverged"] = c.Diverged,
            ["initial_loss"] = Number(c.InitialLoss),
            ["test_accuracy"] = Number(c.TestAccuracy),
            ["step_ms"] = Number(c.StepMilliseconds),
            ["seconds"] = Number(c.Seconds),
        })));
        foreach (var name in s.Connections)
        {
            string key = name.Replace('-', '_');
            Add($"{key}_max_gain", MaxGain(name));
            Add($"{key}_max_backward_gain", MaxBackwardGain(name));
            Add($"{key}_diverged_cells", Cells.Count(c => c.Connection == name && c.Diverged));
            Add($"{key}_spiking_cells", Cells.Count(c => c.Connection == name && c.Spikes > 0));
        }
        var wins = MhcWins();
        Add("mhc_wins", Array(wins.Select(w => (JsonNode?)new JsonObject
        {
            ["depth"] = w.Depth,
            ["learning_rate"] = w.LearningRate,
            ["mhc_spikes"] = w.MhcSpikes,
            ["beaten"] = Array(w.Beaten.Select(b => (JsonNode?)b)),
        })));
        var deepest = wins.FirstOrDefault();
        var fastest = wins.OrderByDescending(w => w.LearningRate).ThenByDescending(w => w.Depth).FirstOrDefault();
        Add("deepest_mhc_win_depth", deepest?.Depth);
        Add("deepest_mhc_win_learning_rate", deepest?.LearningRate);
        Add("fastest_mhc_win_learning_rate", fastest?.LearningRate);
        Add("fastest_mhc_win_depth", fastest?.Depth);
        Add("claim_grid_depth", ClaimDepth);
        Add("claim_grid_history_speedup", Array(GridHistorySpeedup().Select(p => (JsonNode?)new JsonObject
        {
            ["learning_rate"] = p.LearningRate,
            ["residual_over_history_steps"] = p.Speedup,
        })));
        if (Claim is { } claim)
        {
            Add("claim_depth", claim.Depth);
            Add("claim_steps", claim.Steps);
            Add("claim_resnet_final_loss", claim.ResNet[^1]);
            Add("claim_history_detached_final_loss", claim.HistoryDetached[^1]);
            Add("claim_history_attached_final_loss", claim.HistoryAttached[^1]);
            Add("claim_history_detached_speedup", claim.Speedup(claim.HistoryDetached).Speedup);
            Add("claim_history_attached_speedup", claim.Speedup(claim.HistoryAttached).Speedup);
        }
        Add("seconds", Seconds);
        Add("charts", Array(charts.Select(c => (JsonNode?)c)));
        return f;
    }

    private static JsonArray Array(IEnumerable<JsonNode?> items) => new(items.ToArray());

    // JSON has no NaN or infinity: written as strings, as FiguresJson does for flat figures.
    private static JsonNode Number(double v) =>
        double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
}
