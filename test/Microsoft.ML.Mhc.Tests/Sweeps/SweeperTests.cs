using System.Text.Json.Nodes;
using Microsoft.ML.Mhc.Sweeps;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

[Collection(nameof(ToyEstimator))]
public class SweeperTests
{
    private readonly MLContext _ml = new(seed: 1);

    private Sweeper<ToyOptions> NewSweeper(SweepSettings<ToyOptions> settings, SweepMetric? metric = null) =>
        new(_ml, o => new ToyEstimator(o), metric ?? Toy.Quality, settings);

    [Fact]
    public void GridFindsTheKnownOptimumAndVisitsEveryPointOnce()
    {
        var settings = new SweepSettings<ToyOptions>
        {
            Strategy = SweepStrategy.Grid, GridPointsPerRange = 5, MaxTrials = null, Exclude = ["Epochs"],
            BaseOptions = new ToyOptions { Epochs = 3 },
        };
        var result = NewSweeper(settings).Fit(Toy.Data(_ml));

        Assert.Equal(5 * 3 * 2, result.Trials.Count);
        Assert.Equal("search space exhausted", result.StopReason);
        Assert.Equal(result.Trials.Count, result.Trials.Select(t => t.DescribeParameters()).Distinct().Count());
        Assert.Equal(0.25, result.Options.X, 12);
        Assert.Equal(ToyKind.Beta, result.Options.Kind);
        Assert.True(result.Options.Flag);
        Assert.Equal(3, result.Options.Epochs); // excluded: keeps the base value
        Assert.Equal(3 * 0.75, result.BestMetric, 12);
        Assert.Equal(result.BestMetric, ((ToyModel)result.Model).Quality);
        Assert.Equal("training split", result.ModelFittedOn);
    }

    [Fact]
    public void RandomStartsWithTheBaselineAndGetsCloseToTheOptimum()
    {
        var settings = new SweepSettings<ToyOptions> { MaxTrials = 150, Seed = 5, Include = ["X", "Kind", "Flag"] };
        var result = NewSweeper(settings).Fit(Toy.Data(_ml));

        Assert.Equal(150, result.Trials.Count);
        Assert.Equal("trial budget", result.StopReason);
        var baseline = result.Trials[0];
        Assert.True(baseline.IsBaseline);
        Assert.Equal(0.9, (double)baseline.Parameters["X"], 12);
        Assert.Equal(ToyKind.Alpha, baseline.Parameters["Kind"]);
        Assert.Equal(ToyKind.Beta, result.Options.Kind);
        Assert.True(result.Options.Flag);
        Assert.InRange(result.Options.X, 0.15, 0.35);
        Assert.Equal(result.Trials.Where(t => t.Status == SweepTrialStatus.Completed).Max(t => t.Metric), result.BestMetric);
        Assert.Equal(result.BestTrial, result.Leaderboard(1).Single());
    }

    [Fact]
    public void MinimisingUsesTheLowestMetric()
    {
        var loss = new SweepMetric("Loss", (m, _) => -((ToyModel)m).Quality, maximize: false);
        var settings = new SweepSettings<ToyOptions> { Strategy = SweepStrategy.Grid, GridPointsPerRange = 5, MaxTrials = null, Exclude = ["Epochs"] };
        var result = NewSweeper(settings, loss).Fit(Toy.Data(_ml));
        Assert.Equal(0.25, result.Options.X, 12);
        Assert.Equal(result.Trials.Min(t => t.Metric), result.BestMetric);
        var board = result.Leaderboard(5);
        Assert.True(board.Zip(board.Skip(1)).All(p => p.First.Metric <= p.Second.Metric));
    }

    [Fact]
    public void LosingModelsAreDisposedAndTheBestIsNot()
    {
        ToyEstimator.Fitted.Clear();
        var result = NewSweeper(new SweepSettings<ToyOptions> { MaxTrials = 12, Seed = 2 }).Fit(Toy.Data(_ml));
        var best = (ToyModel)result.Model;
        Assert.False(best.Disposed);
        Assert.Equal(12, ToyEstimator.Fitted.Count);
        Assert.All(ToyEstimator.Fitted.Where(m => !ReferenceEquals(m, best)), m => Assert.True(m.Disposed));
    }

    [Fact]
    public void TimeBudgetStopsTheSweepWithoutOverrunning()
    {
        var settings = new SweepSettings<ToyOptions>
        {
            MaxTrials = 1000, TimeBudget = TimeSpan.FromMilliseconds(600),
            BaseOptions = new ToyOptions { SleepMilliseconds = 100 }, Exclude = ["Epochs"],
        };
        var result = NewSweeper(settings).Fit(Toy.Data(_ml));
        Assert.Equal("time budget", result.StopReason);
        Assert.InRange(result.Trials.Count, 2, 6);
        // AvoidOverrun: no trial starts when a ~100 ms trial would not fit in the time left.
        Assert.True(result.Elapsed < TimeSpan.FromMilliseconds(600 + 250), $"elapsed {result.Elapsed}");
    }

    [Fact]
    public void CancellationStopsBetweenTrialsAndKeepsTheResultSoFar()
    {
        using var cts = new CancellationTokenSource();
        var settings = new SweepSettings<ToyOptions>
        {
            MaxTrials = 50,
            Progress = new SyncProgress(p => { if (p.Kind == SweepProgressKind.TrialFinished && p.TrialsFinished == 3) cts.Cancel(); }),
        };
        var result = NewSweeper(settings).Fit(Toy.Data(_ml), cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal("cancelled", result.StopReason);
        Assert.Equal(3, result.Trials.Count);

        Assert.Throws<OperationCanceledException>(() => NewSweeper(new SweepSettings<ToyOptions>()).Fit(Toy.Data(_ml), cts.Token));
    }

    [Fact]
    public void FailedTrialsAreRecordedAndSkipped()
    {
        var settings = new SweepSettings<ToyOptions>
        {
            Strategy = SweepStrategy.Grid, GridPointsPerRange = 5, MaxTrials = null, Include = ["X"],
            BaseOptions = new ToyOptions { FailAbove = 0.6 },
        };
        var result = NewSweeper(settings).Fit(Toy.Data(_ml));
        Assert.Equal(5, result.Trials.Count);
        var failed = result.Trials.Where(t => t.Status == SweepTrialStatus.Failed).ToList();
        Assert.Equal(2, failed.Count); // X = 0.75 and 1.0
        Assert.All(failed, t => Assert.Contains("too large", t.Error));
        Assert.All(failed, t => Assert.True(double.IsNaN(t.Metric)));
        Assert.Equal(0.25, result.Options.X, 12);
    }

    [Fact]
    public void ASweepWhoseTrialsAllFailStopsEarlyWithTheCause()
    {
        var settings = new SweepSettings<ToyOptions> { MaxTrials = 40, BaseOptions = new ToyOptions { FailAbove = -1 } };
        var e = Assert.Throws<InvalidOperationException>(() => NewSweeper(settings).Fit(Toy.Data(_ml)));
        Assert.Contains("first 3 trials", e.Message);
        Assert.Contains("too large", e.InnerException!.Message);
    }

    [Fact]
    public void SuccessiveHalvingPromotesTheBestToTheFullEpochBudget()
    {
        var halving = SuccessiveHalving<ToyOptions>.ForMember(nameof(ToyOptions.Epochs), minEpochs: 1, maxEpochs: 9, reductionFactor: 3);
        Assert.Equal([1, 3, 9], halving.Rungs);
        var settings = new SweepSettings<ToyOptions> { MaxTrials = 13, Seed = 4, SuccessiveHalving = halving };
        var sweeper = NewSweeper(settings);
        Assert.DoesNotContain(sweeper.Space.Dimensions, d => d.Name == "Epochs");

        var result = sweeper.Fit(Toy.Data(_ml));

        // One bracket: 9 configurations at 1 epoch, the best 3 at 3 epochs, the best one at 9.
        Assert.Equal([9, 3, 1], result.Trials.GroupBy(t => t.Epochs).OrderBy(g => g.Key).Select(g => g.Count()));
        var rung0 = result.Trials.Where(t => t.Rung == 0).ToList();
        var top3 = rung0.OrderByDescending(t => t.Metric).Take(3).Select(t => t.DescribeParameters()).ToHashSet();
        Assert.Equal(top3, result.Trials.Where(t => t.Rung == 1).Select(t => t.DescribeParameters()).ToHashSet());
        Assert.Equal(9, result.BestTrial.Epochs);
        Assert.Equal(9, result.Options.Epochs);
        Assert.Equal(rung0.MaxBy(t => t.Metric)!.DescribeParameters(), result.BestTrial.DescribeParameters());
        Assert.Equal(9, ((ToyModel)result.Model).Epochs);
        // The 9-epoch trial ranks first even though its per-epoch quality factor differs.
        Assert.Equal(result.BestTrial, result.Leaderboard(1)[0]);
    }

    [Fact]
    public void RunHistoryIsWrittenLikeAModelBuilderConfig()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mhc-sweep-{Guid.NewGuid():N}", "history.json");
        try
        {
            var settings = new SweepSettings<ToyOptions> { MaxTrials = 4, HistoryPath = path, TrainerName = "Toy", NumberOfFolds = 2 };
            var result = NewSweeper(settings).Fit(Toy.Data(_ml));
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            Assert.Equal("TrainingConfig", (string?)json["Type"]);
            Assert.Equal("CrossValidationValidationOption", (string?)json["TrainingOption"]!["ValidationOption"]!["Type"]);
            Assert.Equal(2, (int)json["TrainingOption"]!["ValidationOption"]!["NumberOfFolds"]!);
            var history = json["RunHistory"]!;
            Assert.Equal("Quality", (string?)history["MetricName"]);
            var trials = history["Trials"]!.AsArray();
            Assert.Equal(4, trials.Count);
            for (int i = 0; i < 4; i++)
            {
                var t = trials[i]!;
                Assert.Equal("Toy", (string?)t["TrainerName"]);
                Assert.Equal(result.Trials[i].Metric, (double)t["Score"]!, 9);
                Assert.True((double)t["RuntimeInSeconds"]! >= 0);
                Assert.Equal(2, t["FoldScores"]!.AsArray().Count);
                var e0 = t["Parameter"]!["e0"]!;
                Assert.Equal(result.Trials[i].Parameters["Kind"].ToString(), (string?)e0["Kind"]);
                Assert.Equal((double)result.Trials[i].Parameters["X"], (double)e0["X"]!, 12);
            }
            Assert.Equal(result.BestTrial.Id, (int)history["BestTrial"]!);
            Assert.Equal("all data", result.ModelFittedOn);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void ProgressReportsEveryTrialAndTheFinish()
    {
        var reports = new List<SweepProgress>();
        var settings = new SweepSettings<ToyOptions> { MaxTrials = 5, Progress = new SyncProgress(reports.Add) };
        NewSweeper(settings).Fit(Toy.Data(_ml));
        Assert.Equal(SweepProgressKind.Started, reports[0].Kind);
        Assert.Equal(5, reports.Count(r => r.Kind == SweepProgressKind.TrialStarted));
        var finished = reports.Where(r => r.Kind == SweepProgressKind.TrialFinished).ToList();
        Assert.Equal([1, 2, 3, 4, 5], finished.Select(r => r.TrialsFinished));
        Assert.Equal([0.2, 0.4, 0.6, 0.8, 1.0], finished.Select(r => r.Fraction!.Value));
        Assert.Equal(SweepProgressKind.Finished, reports[^1].Kind);
        Assert.NotNull(reports[^1].Best);
    }

    [Fact]
    public void AnOptionsTypeWithoutAttributesIsRejectedClearly()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            new Sweeper<Toy.Row>(_ml, _ => throw new InvalidOperationException(), Toy.Quality));
        Assert.Contains("Row has no member to sweep", e.Message);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the report before the next line runs.</summary>
    internal sealed class SyncProgress(Action<SweepProgress> onReport) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value) => onReport(value);
    }
}
