using System.Diagnostics;

namespace Microsoft.ML.Mhc.Sweeps;

public sealed partial class Sweeper<TOptions>
{
    /// <summary>
    /// One sweep: proposes configurations, runs each as a trial (plain or in successive-halving brackets) until a budget or
    /// the space runs out, keeps the best model, refits it when asked, and reports progress and history as it goes.
    /// </summary>
    private sealed class SweepRun
    {
        private readonly Sweeper<TOptions> sweeper;
        private readonly List<(IDataView Train, IDataView Test)> folds;
        private readonly CancellationToken ct;
        private readonly Stopwatch clock;
        private readonly List<SweepTrial> trials = [];
        private readonly Best best = new();
        private readonly TOptions baseOptions;
        private readonly SuccessiveHalving<TOptions>? halving;
        private readonly string trainerName;
        private readonly Proposals proposals;
        private readonly int? planned;
        private string stopReason = "search space exhausted";
        private bool cancelled;
        private int failuresBeforeSuccess;
        private Exception? lastError;

        public SweepRun(Sweeper<TOptions> sweeper, List<(IDataView Train, IDataView Test)> folds, CancellationToken ct)
        {
            clock = Stopwatch.StartNew();
            this.sweeper = sweeper;
            this.folds = folds;
            this.ct = ct;
            baseOptions = Settings.BaseOptions ?? new TOptions();
            halving = Settings.SuccessiveHalving;
            trainerName = Settings.TrainerName ?? typeof(TOptions).DeclaringType?.Name ?? typeof(TOptions).Name;
            proposals = new Proposals(Space, Settings, baseOptions);
            planned = Settings.Strategy == SweepStrategy.Grid
                ? (int)Math.Min(Settings.MaxTrials ?? int.MaxValue, GridTrials(proposals.GridSize, halving))
                : Settings.MaxTrials;
        }

        private SweepSettings<TOptions> Settings => sweeper._settings;
        private SweepMetric Metric => sweeper._metric;
        private SweepSpace Space => sweeper.Space;

        public SweepResult<TOptions> Execute(IDataView? refitData)
        {
            Report(SweepProgressKind.Started, null, $"Sweeping {Space.Dimensions.Count} members of {typeof(TOptions).Name} ({Settings.Strategy}" +
                (halving is null ? "" : $", successive halving over {string.Join("/", halving.Rungs)} epochs") +
                $", {(folds.Count > 1 ? $"{folds.Count}-fold" : "holdout")} {Metric.Name})");
            if (halving is null) RunPlain();
            else RunHalving(halving);
            var bestTrial = best.Trial ?? throw NoBestTrial();
            if (refitData is not null && !cancelled) Refit(bestTrial, refitData);

            clock.Stop();
            var history = sweeper.BuildHistory(trials, trainerName, folds.Count, clock.Elapsed, bestTrial);
            if (Settings.HistoryPath is { } path) SweepJson.Write(history, path);
            var result = new SweepResult<TOptions>(best.Model!, best.Options!, bestTrial, trials, clock.Elapsed, Metric, stopReason, cancelled, best.FittedOn, history);
            Report(SweepProgressKind.Finished, null, $"Sweep stopped ({stopReason}) after {trials.Count} trials in {clock.Elapsed.TotalSeconds:F1}s; " +
                $"best {Metric.Name}={bestTrial.Metric:G5}: {bestTrial.DescribeParameters()}");
            return result;
        }

        private void RunPlain()
        {
            while (proposals.Next() is { } p)
                if (RunTrial(p, null, null, null) is null) break;
        }

        private void RunHalving(SuccessiveHalving<TOptions> halving)
        {
            for (int bracket = 0; ; bracket++)
            {
                var configs = new List<Proposal>();
                while (configs.Count < halving.BracketSize && proposals.Next() is { } p) configs.Add(p);
                if (configs.Count == 0 || !RunBracket(halving, configs, bracket)) break;
            }
        }

        // Runs the rungs of one bracket, keeping the best 1/η of each rung for the next; false when the sweep must stop.
        private bool RunBracket(SuccessiveHalving<TOptions> halving, List<Proposal> configs, int bracket)
        {
            var rungs = halving.Rungs;
            for (int rung = 0; rung < rungs.Count; rung++)
            {
                var scored = new List<(Proposal P, SweepTrial T)>();
                foreach (var c in configs)
                {
                    var t = RunTrial(c, rungs[rung], bracket, rung);
                    if (t is null) return false;
                    scored.Add((c, t));
                }
                int keep = Math.Max(1, scored.Count / halving.ReductionFactor);
                configs = scored.Where(s => s.T.Status == SweepTrialStatus.Completed)
                                .OrderBy(s => Metric.Maximize ? -s.T.Metric : s.T.Metric).ThenBy(s => s.T.Id)
                                .Take(keep).Select(s => s.P).ToList();
                if (configs.Count == 0) break;
            }
            return true;
        }

        // Returns null when the sweep must stop before this trial (the reason is in stopReason).
        private SweepTrial? RunTrial(Proposal p, int? epochs, int? bracket, int? rung)
        {
            if (MustStopBefore(epochs)) return null;
            var options = Clone(baseOptions);
            Space.Apply(options, p.Assignment);
            if (epochs is { } e) halving!.SetEpochs(options, e);
            var parameters = Space.Read(options);
            int id = trials.Count;
            Report(SweepProgressKind.TrialStarted, new SweepTrial(id, parameters, epochs, bracket, rung, double.NaN, [], TimeSpan.Zero,
                SweepTrialStatus.Completed, null, p.IsBaseline), $"Trial {id}: {string.Join(", ", parameters.Select(kv => $"{kv.Key}={SweepJson.FormatValue(kv.Value)}"))}" +
                (epochs is null ? "" : $" ({epochs} epochs)"));

            var watch = Stopwatch.StartNew();
            if (!FitFolds(options, out var scores, out var kept, out var error)) return null;
            watch.Stop();

            double metric = error is null ? scores.Average() : double.NaN;
            var trial = new SweepTrial(id, parameters, epochs, bracket, rung, metric, error is null ? scores : [], watch.Elapsed,
                error is null ? SweepTrialStatus.Completed : SweepTrialStatus.Failed, error, p.IsBaseline);
            Record(trial, options, kept);
            if (failuresBeforeSuccess >= Settings.MaxFailuresBeforeFirstSuccess)
                throw new InvalidOperationException(
                    $"The first {failuresBeforeSuccess} trials of the sweep failed; the last with: {error}", lastError);
            return trial;
        }

        private bool MustStopBefore(int? epochs)
        {
            if (ct.IsCancellationRequested) { stopReason = "cancelled"; cancelled = true; return true; }
            if (Settings.MaxTrials is { } max && trials.Count >= max) { stopReason = "trial budget"; return true; }
            if (Settings.TimeBudget is { } budget && trials.Count > 0)
            {
                var left = budget - clock.Elapsed;
                if (left <= TimeSpan.Zero || (Settings.AvoidOverrun && EstimateDuration(trials, epochs) > left))
                { stopReason = "time budget"; return true; }
            }
            return false;
        }

        // Fits and scores every fold; false when cancelled (the sweep stops), otherwise the scores or the error of the trial.
        private bool FitFolds(TOptions options, out List<double> scores, out ITransformer? kept, out string? error)
        {
            scores = [];
            kept = null;
            error = null;
            try
            {
                for (int k = 0; k < folds.Count; k++)
                {
                    if (k > 0 && ct.IsCancellationRequested) throw new OperationCanceledException(ct);
                    var model = sweeper._factory(options).Fit(folds[k].Train);
                    double score = Metric.Evaluate(model, folds[k].Test);
                    scores.Add(score);
                    // Keep only the last fold's model: it stands in for the trial until a refit replaces it.
                    DisposeModel(kept);
                    kept = model;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                DisposeModel(kept);
                stopReason = "cancelled"; cancelled = true;
                return false;
            }
            catch (Exception ex)
            {
                DisposeModel(kept);
                kept = null;
                lastError = ex;
                error = $"{ex.GetType().Name}: {ex.Message}";
            }
            return true;
        }

        // Adds the trial, keeps its model when it is the best so far, and writes the history and the progress line.
        private void Record(SweepTrial trial, TOptions options, ITransformer? kept)
        {
            trials.Add(trial);
            if (trial.Status == SweepTrialStatus.Completed) failuresBeforeSuccess = -1;
            else if (failuresBeforeSuccess >= 0) failuresBeforeSuccess++;

            if (SweepRanking.Outranks(trial, best.Trial, Metric))
            {
                DisposeModel(best.Model);
                best.Trial = trial; best.Options = options; best.Model = kept;
                best.FittedOn = folds.Count > 1 ? $"fold {folds.Count} of {folds.Count}" : "training split";
            }
            else DisposeModel(kept);

            sweeper.WriteHistory(trials, trainerName, folds.Count, clock.Elapsed, best.Trial);
            Report(SweepProgressKind.TrialFinished, trial, trial.Status == SweepTrialStatus.Completed
                ? $"Trial {trial.Id}: {Metric.Name}={trial.Metric:G5} in {trial.Duration.TotalSeconds:F1}s (best {best.Trial?.Metric:G5})"
                : $"Trial {trial.Id} failed: {trial.Error}");
        }

        private Exception NoBestTrial()
        {
            if (cancelled) return new OperationCanceledException("The sweep was cancelled before any trial completed.", ct);
            if (lastError is not null) return new InvalidOperationException($"Every trial of the sweep failed; the last with: {lastError.GetType().Name}: {lastError.Message}", lastError);
            return new InvalidOperationException($"The sweep ran no trial ({stopReason}).");
        }

        private void Refit(SweepTrial bestTrial, IDataView refitData)
        {
            Report(SweepProgressKind.TrialStarted, bestTrial, $"Refitting trial {bestTrial.Id} on all data");
            var model = sweeper._factory(best.Options!).Fit(refitData);
            DisposeModel(best.Model);
            best.Model = model;
            best.FittedOn = "all data";
        }

        private void Report(SweepProgressKind kind, SweepTrial? trial, string message) =>
            Settings.Progress?.Report(new SweepProgress(kind, trials.Count, planned, clock.Elapsed, Settings.TimeBudget, trial, best.Trial, message));
    }
}
