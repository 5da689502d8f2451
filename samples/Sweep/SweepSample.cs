using System.Diagnostics;
using System.Text.Json.Nodes;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Mhc.Samples.Progress;
using Microsoft.ML;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Plots;
using Microsoft.ML.Mhc.Sweeps;
using Spectre.Console;

namespace Mhc.Samples.Sweep;

/// <summary>
/// Sweeps the mHC image trainer on real MNIST digits within a wall-time budget: random proposals over the
/// search-space attributes of <see cref="MhcImageClassificationTrainer.Options"/>, successive halving on
/// epochs so weak settings stop early, a holdout for scoring, then the leaderboard, the run history as a
/// Model Builder style JSON, and the best trial's training curves as PNG.
/// </summary>
public static class SweepSample
{
    /// <summary>Entry point (also called in-process by the sample tests).</summary>
    public static int Run(string[] args)
    {
        SampleArgs options;
        try
        {
            options = SampleArgs.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(options.Usage("Sweep"));
            return 0;
        }

        bool quick = options.Quick;
        double budgetMinutes = options.BudgetMinutes ?? (quick ? 2 : 10);
        string outDir = options.OutDirectory ?? "out";
        Directory.CreateDirectory(outDir);
        var clock = Stopwatch.StartNew();

        var ml = new MLContext(seed: 1);
        var digits = MnistDigits.Load();
        var (train, test) = digits.SplitPerClass(seed: 1);
        if (quick)
        {
            // A small, still real, slice: the quick mode proves the whole path, not the accuracy.
            train = train.Where((_, i) => i % 10 == 0).ToList();
            test = test.Where((_, i) => i % 10 == 0).ToList();
        }
        // Trials are scored on a validation split of the training digits; the held-out test digits are only
        // used once, for the winner, so the reported test accuracy is not inflated by the selection.
        var (fit, validation) = MnistDigits.SplitPerClass(train, seed: 2, trainFraction: quick ? 0.8 : 0.5);
        if (!quick) fit = fit.Where((_, i) => i % 2 == 0).ToList(); // 2,000 digits per trial keep the rungs short
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label");
        var trainView = ml.Data.LoadFromEnumerable(fit.Select(ToRow));
        var keyMapper = toKey.Fit(trainView);
        var trainData = keyMapper.Transform(trainView);
        var validationData = keyMapper.Transform(ml.Data.LoadFromEnumerable(validation.Select(ToRow)));
        var testData = keyMapper.Transform(ml.Data.LoadFromEnumerable(test.Select(ToRow)));

        var baseOptions = new MhcImageClassificationTrainer.Options
        {
            ImageHeight = 28, ImageWidth = 28, Channels = 1,
            StageDepths = quick ? [1, 1] : [1, 1, 1],
            BaseWidth = quick ? 8 : 16,
            MaxEpochs = quick ? 1 : 6,
            Seed = 1,
            CollectDiagnostics = false,
        };
        var settings = new SweepSettings<MhcImageClassificationTrainer.Options>
        {
            Strategy = SweepStrategy.Random,
            // Quick: one bracket of successive halving, 2 configurations for 1 epoch and the better one for 2, so the
            // smoke run exercises promotion too; the trial cap, not the budget, ends it.
            MaxTrials = quick ? 3 : 40,
            TimeBudget = TimeSpan.FromMinutes(budgetMinutes),
            Seed = 1,
            BaseOptions = baseOptions,
            // Width and depth stay fixed (the smallest Hyper-ResNet) so that a 10-minute budget on 2 CPU cores
            // holds a full successive-halving bracket; the connection and its mixing are swept.
            Include = quick
                ? ["LearningRate", "Connection"]
                : ["LearningRate", "WeightDecay", "Connection", "ExpansionRate", "DynamicMixing"],
            SuccessiveHalving = quick
                ? SuccessiveHalving<MhcImageClassificationTrainer.Options>.ForMember("MaxEpochs", minEpochs: 1, maxEpochs: 2, reductionFactor: 2)
                : SuccessiveHalving<MhcImageClassificationTrainer.Options>.ForMember("MaxEpochs", minEpochs: 1, maxEpochs: 9, reductionFactor: 3),
            TrainerName = "MhcImage",
            HistoryPath = Path.Combine(outDir, "sweep.mbconfig.json"),
        };

        var sweeper = new Sweeper<MhcImageClassificationTrainer.Options>(
            ml, o => ml.MulticlassClassification.Trainers.MhcImage(o), SweepMetric.MicroAccuracy(ml), settings);
        Console.WriteLine($"Sweeping {sweeper.Space.Dimensions.Count} dimensions ({string.Join(", ", settings.Include)}) on " +
                          $"{fit.Count} MNIST digits for at most {budgetMinutes:0.#} min, scoring trials on {validation.Count} validation digits; " +
                          $"the winner is then tested on {test.Count} held-out digits.");

        SweepResult<MhcImageClassificationTrainer.Options> result = ConsoleProgress.Run("sweep", budgetMinutes * 60, sink =>
        {
            settings.Progress = new Progress<SweepProgress>(p =>
            {
                sink.Report(clock.Elapsed.TotalSeconds, p.Message);
            });
            return sweeper.Fit(trainData, validationData);
        });

        PrintLeaderboard(result);
        var best = (MhcImageClassificationTransformer)result.Model;
        var testMetrics = ml.MulticlassClassification.Evaluate(best.Transform(testData));
        Console.WriteLine($"Best trial on the {test.Count} held-out test digits: accuracy {testMetrics.MicroAccuracy:P2}, " +
                          $"macro {testMetrics.MacroAccuracy:P2}, log-loss {testMetrics.LogLoss:F4}.");
        var curves = best.TrainingHistory.Epochs.Select(e => new TrainingCurvePoint(e.Epoch, e.TrainLoss, e.ValidationLoss,
            e.TrainMetrics.GetValueOrDefault("accuracy"), e.ValidationMetrics.TryGetValue("accuracy", out var v) ? v : null)).ToList();
        if (curves.Count > 0)
            Console.WriteLine($"Training curves of the best trial: {MhcPlots.SaveTrainingCurves(curves, Path.Combine(outDir, "sweep-best-training.png"))}");
        result.SaveHistory(settings.HistoryPath);
        Console.WriteLine($"Run history: {settings.HistoryPath}");

        double seconds = clock.Elapsed.TotalSeconds;
        if (options.JsonPath is { } json)
        {
            FiguresJson.Write(json, new Dictionary<string, object?>
            {
                ["trials"] = result.Trials.Count,
                ["halving_rungs"] = string.Join("/", settings.SuccessiveHalving!.Rungs),
                ["trials_per_rung"] = string.Join("/", settings.SuccessiveHalving!.Rungs.Select((_, r) => result.Trials.Count(t => t.Rung == r))),
                ["best_accuracy"] = result.BestMetric,
                ["best_test_accuracy"] = testMetrics.MicroAccuracy,
                ["best_test_macro_accuracy"] = testMetrics.MacroAccuracy,
                ["best_options"] = SweepJson.Describe(result.Options),
                ["best_parameters"] = result.BestTrial.DescribeParameters(),
                ["seconds"] = seconds,
                ["budget_minutes"] = budgetMinutes,
                ["stop_reason"] = result.StopReason,
                ["quick"] = quick,
                ["peak_memory_mb"] = PeakMemory.PeakResidentMegabytes(),
            });
            Console.WriteLine($"Figures: {json}");
        }
        Console.WriteLine($"Done in {seconds:0} s: {result.Trials.Count} trials, best validation accuracy {result.BestMetric:P2}, its test accuracy {testMetrics.MicroAccuracy:P2}.");
        best.Dispose();
        return 0;
    }

    private static DigitRow ToRow(ImageExample e) => new() { Features = e.Pixels, Label = e.Label };

    private static void PrintLeaderboard(SweepResult<MhcImageClassificationTrainer.Options> result)
    {
        var table = new Table().Title("Leaderboard (holdout micro-accuracy)");
        table.AddColumn("#");
        table.AddColumn("accuracy");
        table.AddColumn("epochs");
        table.AddColumn("seconds");
        table.AddColumn("parameters");
        int rank = 1;
        foreach (var t in result.Leaderboard(10))
            table.AddRow(rank++.ToString(), t.Metric.ToString("P2"), t.Epochs?.ToString() ?? "-", t.Duration.TotalSeconds.ToString("0"), Markup.Escape(t.DescribeParameters()));
        AnsiConsole.Write(table);
        Console.WriteLine($"Stopped: {result.StopReason}");
    }
}
