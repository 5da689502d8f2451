using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// A compact hyper-parameter sweeper for any ML.NET estimator whose options class is annotated with the
/// <c>Microsoft.ML.SearchSpace</c> attributes (see <see cref="SweepSpace"/>): random or grid proposals,
/// optional successive halving on epochs, a budget in trials and wall time, holdout or k-fold scoring,
/// cancellation, progress reports and a Model Builder style run history. It needs no AutoML package.
/// </summary>
/// <typeparam name="TOptions">The trainer options type.</typeparam>
/// <example>
/// <code>
/// var sweeper = new Sweeper&lt;MyTrainer.Options&gt;(mlContext,
///     o =&gt; mlContext.MulticlassClassification.Trainers.MyTrainer(o),
///     SweepMetric.MicroAccuracy(mlContext),
///     new SweepSettings&lt;MyTrainer.Options&gt; { MaxTrials = 30, TimeBudget = TimeSpan.FromMinutes(10) });
/// var result = sweeper.Fit(trainData);
/// Console.WriteLine($"{result.BestMetric:P2} with {result.BestTrial.DescribeParameters()}");
/// </code>
/// </example>
public sealed partial class Sweeper<TOptions> where TOptions : class, new()
{
    private static readonly MethodInfo MemberwiseCloneMethod =
        typeof(object).GetMethod("MemberwiseClone", BindingFlags.NonPublic | BindingFlags.Instance)!;

    private readonly MLContext _mlContext;
    private readonly Func<TOptions, IEstimator<ITransformer>> _factory;
    private readonly SweepMetric _metric;
    private readonly SweepSettings<TOptions> _settings;

    /// <summary>Creates a sweeper.</summary>
    /// <param name="mlContext">Context used to split the data.</param>
    /// <param name="estimatorFactory">Builds the estimator (a trainer or a whole pipeline) for a trial's options.</param>
    /// <param name="metric">What to optimise.</param>
    /// <param name="settings">Budget, validation and strategy; defaults to 20 random trials on an 80/20 holdout.</param>
    public Sweeper(MLContext mlContext, Func<TOptions, IEstimator<ITransformer>> estimatorFactory, SweepMetric metric, SweepSettings<TOptions>? settings = null)
    {
        _mlContext = mlContext ?? throw new ArgumentNullException(nameof(mlContext));
        _factory = estimatorFactory ?? throw new ArgumentNullException(nameof(estimatorFactory));
        _metric = metric ?? throw new ArgumentNullException(nameof(metric));
        _settings = settings ?? new SweepSettings<TOptions>();
        _settings.Validate();
        var exclude = (_settings.Exclude ?? []).ToList();
        if (_settings.SuccessiveHalving?.EpochMemberName is { } epochs && SweepSpace.For<TOptions>()[epochs] is not null && !exclude.Contains(epochs))
            exclude.Add(epochs);
        Space = SweepSpace.For<TOptions>().Filter(_settings.Include, exclude);
        if (Space.Dimensions.Count == 0)
            throw new InvalidOperationException(
                $"{typeof(TOptions).Name} has no member to sweep: annotate fields or properties with [Range], [Choice] or [BooleanChoice] " +
                "(namespace Microsoft.ML.SearchSpace), or check Include/Exclude.");
    }

    /// <summary>The members this sweeper varies.</summary>
    public SweepSpace Space { get; }

    /// <summary>
    /// Sweeps on <paramref name="data"/>, scoring each trial on a holdout split (<see cref="SweepSettings{TOptions}.ValidationFraction"/>)
    /// or by k-fold cross-validation (<see cref="SweepSettings{TOptions}.NumberOfFolds"/>).
    /// </summary>
    /// <param name="data">Training data.</param>
    /// <param name="cancellationToken">Stops the sweep between trials; the result covers the trials done.</param>
    /// <exception cref="OperationCanceledException">Cancelled before any trial completed.</exception>
    /// <exception cref="InvalidOperationException">Every trial failed (the inner exception is the last failure).</exception>
    public SweepResult<TOptions> Fit(IDataView data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var folds = new List<(IDataView Train, IDataView Test)>();
        if (_settings.NumberOfFolds >= 2)
        {
            foreach (var f in _mlContext.Data.CrossValidationSplit(data, _settings.NumberOfFolds, _settings.SamplingKeyColumnName, _settings.Seed))
                folds.Add((f.TrainSet, f.TestSet));
        }
        else
        {
            var split = _mlContext.Data.TrainTestSplit(data, _settings.ValidationFraction, _settings.SamplingKeyColumnName, _settings.Seed);
            folds.Add((split.TrainSet, split.TestSet));
        }
        bool refit = _settings.NumberOfFolds >= 2 || _settings.RefitOnAllData;
        return Run(folds, refit ? data : null, cancellationToken);
    }

    /// <summary>Sweeps with a separate validation set: each trial fits on <paramref name="train"/> and is scored on <paramref name="validation"/>.</summary>
    /// <param name="train">Training data.</param>
    /// <param name="validation">Scoring data.</param>
    /// <param name="cancellationToken">Stops the sweep between trials; the result covers the trials done.</param>
    public SweepResult<TOptions> Fit(IDataView train, IDataView validation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        return Run([(train, validation)], null, cancellationToken);
    }

    private sealed class Best
    {
        public SweepTrial? Trial;
        public TOptions? Options;
        public ITransformer? Model;
        public string FittedOn = "";
    }

    private SweepResult<TOptions> Run(List<(IDataView Train, IDataView Test)> folds, IDataView? refitData, CancellationToken ct) =>
        new SweepRun(this, folds, ct).Execute(refitData);

    private static long GridTrials(long gridSize, SuccessiveHalving<TOptions>? halving)
    {
        if (halving is null) return gridSize;
        // Each bracket of n configurations costs n + n/η + n/η² + ... fits.
        long total = 0, remaining = gridSize;
        while (remaining > 0)
        {
            long n = Math.Min(remaining, halving.BracketSize);
            remaining -= n;
            for (int k = 0; k < halving.Rungs.Count; k++) { total += n; n = Math.Max(1, n / halving.ReductionFactor); }
        }
        return total;
    }

    private static TimeSpan EstimateDuration(List<SweepTrial> trials, int? epochs)
    {
        var done = trials.Where(t => t.Status == SweepTrialStatus.Completed).ToList();
        if (done.Count == 0) return TimeSpan.Zero;
        var same = done.Where(t => t.Epochs == epochs).ToList();
        if (same.Count > 0) return TimeSpan.FromSeconds(same.Average(t => t.Duration.TotalSeconds));
        if (epochs is { } e && done.All(t => t.Epochs is > 0))
            return TimeSpan.FromSeconds(done.Average(t => t.Duration.TotalSeconds / t.Epochs!.Value) * e);
        return TimeSpan.FromSeconds(done.Average(t => t.Duration.TotalSeconds));
    }

    private void WriteHistory(List<SweepTrial> trials, string trainerName, int folds, TimeSpan elapsed, SweepTrial? best)
    {
        if (_settings.HistoryPath is { } path) SweepJson.Write(BuildHistory(trials, trainerName, folds, elapsed, best), path);
    }

    private JsonObject BuildHistory(List<SweepTrial> trials, string trainerName, int folds, TimeSpan elapsed, SweepTrial? best)
    {
        var validation = folds > 1
            ? new JsonObject { ["Version"] = 0, ["Type"] = "CrossValidationValidationOption", ["NumberOfFolds"] = folds }
            : new JsonObject { ["Version"] = 0, ["Type"] = "TrainValidateSplitValidationOption", ["SplitRatio"] = _settings.ValidationFraction };
        var trainingOption = new JsonObject
        {
            ["Version"] = 2,
            ["Type"] = "SweepTrainingOption",
            ["TrainingTime"] = _settings.TimeBudget is { } b ? Math.Round(b.TotalSeconds, 3) : null,
            ["MaxTrials"] = _settings.MaxTrials,
            ["Strategy"] = _settings.Strategy.ToString(),
            ["Seed"] = _settings.Seed,
            ["OptimizeMetric"] = _metric.Name,
            ["Maximize"] = _metric.Maximize,
            ["ValidationOption"] = validation,
        };
        if (_settings.SuccessiveHalving is { } h)
            trainingOption["SuccessiveHalving"] = new JsonObject
            {
                ["MinEpochs"] = h.MinEpochs,
                ["MaxEpochs"] = h.MaxEpochs,
                ["ReductionFactor"] = h.ReductionFactor,
                ["Rungs"] = new JsonArray(h.Rungs.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            };
        var searchSpace = new JsonObject();
        foreach (var d in Space.Dimensions)
            searchSpace[d.Name] = d switch
            {
                RangeDimension r => new JsonObject { ["Type"] = r.IsInteger ? "Integer" : "Float", ["Min"] = r.Min, ["Max"] = r.Max, ["LogBase"] = r.LogBase },
                ChoiceDimension c => new JsonObject { ["Type"] = c.IsBoolean ? "Boolean" : "Choice", ["Candidates"] = new JsonArray(c.Candidates.Select(SweepJson.ToNode).ToArray()) },
                _ => null,
            };
        return new JsonObject
        {
            ["Scenario"] = "Sweep",
            ["Type"] = "TrainingConfig",
            ["Version"] = 5,
            ["TrainingOption"] = trainingOption,
            ["SearchSpace"] = searchSpace,
            ["RunHistory"] = new JsonObject
            {
                ["Version"] = 3,
                ["Type"] = "Result",
                ["Trials"] = new JsonArray(trials.Select(t => (JsonNode?)SweepJson.TrialToJson(t, trainerName)).ToArray()),
                ["Estimators"] = new JsonObject { ["e0"] = trainerName },
                ["Schema"] = "e0",
                ["MetricName"] = _metric.Name,
                ["BestTrial"] = best?.Id,
                ["BestScore"] = best is not null && double.IsFinite(best.Metric) ? best.Metric : null,
                ["RuntimeInSeconds"] = Math.Round(elapsed.TotalSeconds, 3),
            },
        };
    }

    private static TOptions Clone(TOptions options) => (TOptions)MemberwiseCloneMethod.Invoke(options, null)!;

    private static void DisposeModel(ITransformer? model) => (model as IDisposable)?.Dispose();

    private sealed record Proposal(IReadOnlyDictionary<string, object> Assignment, bool IsBaseline);

    /// <summary>Yields configurations: baseline first (random strategy), then random draws or a shuffled grid, never the same one twice.</summary>
    private sealed class Proposals
    {
        private const int MaxGrid = 100_000;
        private const int MaxRedraws = 200;
        private readonly SweepSpace _space;
        private readonly SweepSettings<TOptions> _settings;
        private readonly Random _random;
        private readonly HashSet<string> _seen = [];
        private readonly Queue<IReadOnlyDictionary<string, object>>? _grid;
        private IReadOnlyDictionary<string, object>? _baseline;

        public Proposals(SweepSpace space, SweepSettings<TOptions> settings, TOptions baseOptions)
        {
            _space = space;
            _settings = settings;
            _random = new Random(settings.Seed);
            GridSize = space.GridSize(settings.GridPointsPerRange);
            if (settings.Strategy == SweepStrategy.Grid)
            {
                if (GridSize > MaxGrid)
                    throw new ArgumentException($"The grid of {typeof(TOptions).Name} has {GridSize} points (more than {MaxGrid}); " +
                        "lower GridPointsPerRange, restrict Include, or use SweepStrategy.Random.");
                var points = space.Grid(settings.GridPointsPerRange).ToArray();
                _random.Shuffle(points);
                _grid = new Queue<IReadOnlyDictionary<string, object>>(points);
            }
            else if (settings.StartWithBaseline)
                _baseline = space.Read(baseOptions);
        }

        public long GridSize { get; }

        public Proposal? Next()
        {
            if (_baseline is { } b)
            {
                _baseline = null;
                _seen.Add(Key(b));
                return new Proposal(b, true);
            }
            if (_grid is not null)
                return _grid.TryDequeue(out var g) ? new Proposal(g, false) : null;
            for (int i = 0; i < MaxRedraws; i++)
            {
                var a = _space.Sample(_random);
                if (_seen.Add(Key(a))) return new Proposal(a, false);
            }
            return null; // a small discrete space is used up
        }

        private static string Key(IReadOnlyDictionary<string, object> a) =>
            string.Join(";", a.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + Convert.ToString(kv.Value, CultureInfo.InvariantCulture)));
    }
}
