using System.Diagnostics;
using System.Globalization;
using Mhc.Models.Layers;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Microsoft.ML;
using Microsoft.ML.Mhc.TextGeneration;

namespace Mhc.Samples.TextGeneration;

/// <summary>
/// Trains an mHC character-level decoder on Jane Austen (Pride and Prejudice + Northanger Abbey, 90/10
/// split per book) with ML.NET, evaluates it (nats and bits per character), saves and reloads it,
/// prints a generated passage and measures generation speed with and without the key/value cache.
/// </summary>
public static class TextGenerationSample
{
    /// <summary>bzip2 -9 on the validation split, in nats per character (issue 6's anchor).</summary>
    public const double Bzip2NatsPerChar = 1.46;

    /// <summary>A character 6-gram model on the same split, in nats per character (issue 6's anchor).</summary>
    public const double SixGramNatsPerChar = 1.33;

    /// <summary>Runs the sample; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        SampleArgs parsed;
        try
        {
            parsed = SampleArgs.Parse(args, new SampleOption("config", "PATH", "run configuration (default: AustenModel.mbconfig next to the program)"));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        if (parsed.Help)
        {
            Console.WriteLine(parsed.Usage("TextGeneration"));
            return 0;
        }
        try
        {
            Execute(parsed);
            return 0;
        }
        catch (DataMissingException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static void Execute(SampleArgs args)
    {
        var total = Stopwatch.StartNew();
        var config = RunConfig.Load(args.GetValue("config"));
        if (args.Quick) config = config.ForQuickRun();
        if (args.Connection is { } connection)
            config.Trainer.Connection = connection.ToLowerInvariant() switch
            {
                "residual" => ConnectionKind.Residual,
                "hc" => ConnectionKind.Hc,
                "mhc" => ConnectionKind.Mhc,
                _ => throw new ArgumentException($"--connection must be residual, hc or mhc; got '{connection}'."),
            };
        if (args.BudgetMinutes is { } budget)
        {
            config.Trainer.BudgetMinutes = budget;
            config.Trainer.StepsPerEpoch = null;
        }
        var outDir = Path.GetFullPath(args.OutDirectory ?? Path.Combine("out", "text-generation", config.Trainer.Connection.ToString().ToLowerInvariant()));
        Directory.CreateDirectory(outDir);
        var t = config.Trainer;

        // Data: each book split by position, 90 % train / 10 % validation, one row each.
        var (trainText, validationText) = JaneAusten.TrainValidation(config.DataSource.Books, config.DataSource.TrainFraction);
        var mlContext = new MLContext(seed: t.Seed);
        var trainData = mlContext.Data.LoadFromEnumerable(new[] { new AustenModel.TextRow { Text = trainText } });
        var validationData = mlContext.Data.LoadFromEnumerable(new[] { new AustenModel.TextRow { Text = validationText } });
        Console.WriteLine($"Jane Austen ({string.Join(" + ", config.DataSource.Books)}): {trainText.Length:N0} training / {validationText.Length:N0} validation characters");

        // Steps: fixed in the configuration, or planned from a timed probe to fit the budget.
        int stepsPerEpoch;
        double? secondsPerStep = null;
        if (t.StepsPerEpoch is { } fixedSteps)
        {
            stepsPerEpoch = fixedSteps;
        }
        else
        {
            var probeOptions = AustenModel.TrainerOptions(t, config.Generation, 1, null, null);
            secondsPerStep = AustenModel.MeasureSecondsPerStep(mlContext, trainData, probeOptions, steps: 8);
            double budgetSeconds = (t.BudgetMinutes ?? 27) * 60;
            // Keep ~5 % of the budget for the per-epoch validation passes.
            stepsPerEpoch = Math.Max(1, (int)(budgetSeconds * 0.95 / secondsPerStep.Value / t.MaxEpochs));
            t.StepsPerEpoch = stepsPerEpoch;
            Console.WriteLine($"probe: {secondsPerStep:F2} s/step -> {t.MaxEpochs} epochs x {stepsPerEpoch} steps for a {t.BudgetMinutes} min budget");
        }
        config.Save(Path.Combine(outDir, "AustenModel.mbconfig"));

        var options = AustenModel.TrainerOptions(t, config.Generation, stepsPerEpoch, validationData, line => Console.WriteLine($"  {line}"));
        // A safety net when the machine slows down after the probe: stop after the epoch that passes
        // the budget plus two minutes (the schedule is not shortened, so this costs some quality).
        if (t.BudgetMinutes is { } minutes && !args.Quick) options.TrainingTimeBudget = TimeSpan.FromMinutes(minutes + 2);
        Console.WriteLine($"training {t.Connection} decoder: context {t.ContextLength}, dim {t.Dim}, {t.Layers} layers, {t.Heads} heads, " +
            $"n = {(t.Connection == ConnectionKind.Residual ? 1 : t.ExpansionRate)}, batch {t.BatchSize}, {t.NumberOfThreads} threads");
        var trainWatch = Stopwatch.StartNew();
        var model = (MhcTextGenerationTransformer)AustenModel.RetrainModel(mlContext, trainData, options);
        double trainSeconds = trainWatch.Elapsed.TotalSeconds;
        long parameters = model.Network.parameters().Sum(p => p.numel());
        var lastEpoch = model.History!.Epochs[^1];

        // Evaluate: every validation character predicted once, with at least half a context of history.
        var evaluationText = args.Quick ? validationText[..Math.Min(validationText.Length, config.Quick.EvaluationCharacters)] : validationText;
        var evaluationData = mlContext.Data.LoadFromEnumerable(new[] { new AustenModel.TextRow { Text = evaluationText } });
        var evalWatch = Stopwatch.StartNew();
        var metrics = mlContext.TextGeneration().Evaluate(model.Transform(evaluationData), t.TextColumnName);
        double evalSeconds = evalWatch.Elapsed.TotalSeconds;
        Console.WriteLine($"validation: {metrics}  ({evalSeconds:F0} s)");
        Console.WriteLine($"  anchors: bzip2 {Bzip2NatsPerChar:F2}, char 6-gram {SixGramNatsPerChar:F2} nats/char; " +
            $"this model is {metrics.NatsPerCharacter - SixGramNatsPerChar:+0.000;-0.000} from the 6-gram and " +
            $"{(metrics.NatsPerCharacter < Bzip2NatsPerChar ? "below" : "above")} bzip2");

        // Save, reload through the consumption code, print a passage.
        var modelPath = Path.Combine(outDir, "AustenModel.mlnet");
        var promptSchema = mlContext.Data.LoadFromEnumerable(new[] { new AustenModel.ModelInput() }).Schema;
        AustenModel.SaveModel(mlContext, model, promptSchema, modelPath);
        AustenModel.MLNetModelPath = modelPath;
        AustenModel.ResetPredictionEngine();
        var prompt = config.Generation.Prompt;
        var reloaded = AustenModel.Predict(new AustenModel.ModelInput { Prompt = prompt }).GeneratedText;
        var inMemory = model.Generate(prompt);
        Console.WriteLine($"saved {modelPath} ({new FileInfo(modelPath).Length / 1024.0 / 1024.0:F1} MB); reloaded model generates " +
            (reloaded == inMemory ? "the same passage" : "a DIFFERENT passage") + ":");
        Console.WriteLine();
        Console.WriteLine(prompt + reloaded);
        Console.WriteLine();

        // Generation speed, one prompt, with and without the key/value cache.
        var (cached, cachedChars) = GenerationSpeed(model, prompt, config.Generation, useCache: true, args.Quick ? 60 : 500);
        var (uncached, uncachedChars) = GenerationSpeed(model, prompt, config.Generation, useCache: false, args.Quick ? 30 : 200);
        Console.WriteLine($"generation: {cached:F0} chars/s with the cache ({cachedChars} chars), {uncached:F0} chars/s without ({uncachedChars} chars)");

        double peak = PeakMemory.PeakResidentMegabytes();
        var figures = new List<KeyValuePair<string, object?>>
        {
            new("val_nats_per_char", metrics.NatsPerCharacter),
            new("val_bits_per_char", metrics.BitsPerCharacter),
            new("val_perplexity", metrics.CharacterPerplexity),
            new("val_characters", metrics.Characters),
            new("val_loss_last_epoch_windows", lastEpoch.ValidationLoss),
            new("train_loss_last_epoch", lastEpoch.TrainLoss),
            new("train_seconds", trainSeconds),
            // Epochs trained, not planned: a time budget can end the run earlier.
            new("train_tokens_per_second", (double)model.History!.Epochs.Count * stepsPerEpoch * t.BatchSize * t.ContextLength / TrainStepSeconds(model)),
            new("probe_seconds_per_step", secondsPerStep),
            new("eval_seconds", evalSeconds),
            new("generate_chars_per_second", cached),
            new("generate_chars_per_second_no_cache", uncached),
            new("peak_memory_mb", peak),
            new("connection", t.Connection.ToString().ToLowerInvariant()),
            new("expansion_rate", t.Connection == ConnectionKind.Residual ? 1 : t.ExpansionRate),
            new("dynamic_mixing", t.DynamicMixing),
            new("parameters", parameters),
            new("vocab_size", model.Vocabulary.Count),
            new("context_length", t.ContextLength),
            new("dim", t.Dim),
            new("layers", t.Layers),
            new("heads", t.Heads),
            new("batch_size", t.BatchSize),
            new("epochs", model.History!.Epochs.Count),
            new("steps", model.History!.Epochs.Count * stepsPerEpoch),
            new("threads", t.NumberOfThreads),
            new("anchor_bzip2_nats_per_char", Bzip2NatsPerChar),
            new("anchor_6gram_nats_per_char", SixGramNatsPerChar),
            new("gap_to_6gram_nats_per_char", metrics.NatsPerCharacter - SixGramNatsPerChar),
            new("reload_same_text", reloaded == inMemory),
            new("quick", args.Quick),
            new("total_seconds", total.Elapsed.TotalSeconds),
            new("sample_text", prompt + reloaded),
        };
        if (args.JsonPath is { } json)
        {
            FiguresJson.Write(json, figures);
            Console.WriteLine($"figures: {Path.GetFullPath(json)}");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done in {total.Elapsed.TotalSeconds:F0} s: {metrics.NatsPerCharacter:F4} nats/char, {trainSeconds:F0} s training, peak {peak:F0} MB"));
    }

    private static double TrainStepSeconds(MhcTextGenerationTransformer model) => model.History!.Epochs.Sum(e => e.TrainSeconds);

    private static (double CharsPerSecond, int Characters) GenerationSpeed(MhcTextGenerationTransformer model, string prompt,
        GenerationConfig generation, bool useCache, int tokens)
    {
        var options = new TextGenerationOptions
        {
            MaxNewTokens = tokens, Temperature = generation.Temperature, TopP = generation.TopP, Seed = generation.Seed, UseCache = useCache,
        };
        var watch = Stopwatch.StartNew();
        int characters = model.GenerateStream(prompt, options).Sum(piece => piece.Length);
        return (characters / watch.Elapsed.TotalSeconds, characters);
    }
}
