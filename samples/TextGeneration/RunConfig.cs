using System.Text.Json;
using System.Text.Json.Serialization;
using Mhc.Models.Layers;

namespace Mhc.Samples.TextGeneration;

/// <summary>The run configuration (<c>AustenModel.mbconfig</c>, Model Builder style): data, trainer, generation, quick-mode overrides.</summary>
public sealed class RunConfig
{
    /// <summary>The ML task.</summary>
    public string Scenario { get; set; } = "TextGeneration";

    /// <summary>Where the text comes from.</summary>
    public DataSourceConfig DataSource { get; set; } = new();

    /// <summary>The trainer's settings.</summary>
    public TrainerConfig Trainer { get; set; } = new();

    /// <summary>The sample passage settings.</summary>
    public GenerationConfig Generation { get; set; } = new();

    /// <summary>Overrides for <c>--quick</c>.</summary>
    public QuickConfig Quick { get; set; } = new();

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Reads the configuration shipped next to the sample.</summary>
    public static RunConfig Load(string? path = null)
    {
        path ??= Path.Combine(AppContext.BaseDirectory, "AustenModel.mbconfig");
        return JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    /// <summary>Writes the effective configuration of a run.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>The configuration with the quick-mode overrides applied.</summary>
    public RunConfig ForQuickRun()
    {
        var copy = JsonSerializer.Deserialize<RunConfig>(JsonSerializer.Serialize(this, Json), Json)!;
        var t = copy.Trainer;
        var q = Quick;
        t.ContextLength = q.ContextLength;
        t.Dim = q.Dim;
        t.Layers = q.Layers;
        t.Heads = q.Heads;
        t.MlpRatio = q.MlpRatio;
        t.ExpansionRate = q.ExpansionRate;
        t.BatchSize = q.BatchSize;
        t.MaxEpochs = q.MaxEpochs;
        t.StepsPerEpoch = q.StepsPerEpoch;
        t.ValidationWindows = q.ValidationWindows;
        t.BudgetMinutes = null;
        copy.Generation.MaxNewTokens = q.MaxNewTokens;
        return copy;
    }
}

/// <summary>The text source: Jane Austen novels from <c>janeaustenr</c>, split by position per book.</summary>
public sealed class DataSourceConfig
{
    /// <summary>Reader.</summary>
    public string Type { get; set; } = "JaneAusten";

    /// <summary>Books used.</summary>
    public string[] Books { get; set; } = ["prideprejudice", "northangerabbey"];

    /// <summary>Share of each book used for training.</summary>
    public double TrainFraction { get; set; } = 0.9;
}

/// <summary>The trainer's settings (see <c>MhcDecoderTrainer.Options</c>).</summary>
public sealed class TrainerConfig
{
    /// <summary>Trainer name.</summary>
    public string Name { get; set; } = "MhcDecoder";
    /// <summary>Training text column.</summary>
    public string TextColumnName { get; set; } = "Text";
    /// <summary>Context length in characters.</summary>
    public int ContextLength { get; set; } = 128;
    /// <summary>Model width.</summary>
    public int Dim { get; set; } = 128;
    /// <summary>Blocks.</summary>
    public int Layers { get; set; } = 4;
    /// <summary>Heads.</summary>
    public int Heads { get; set; } = 4;
    /// <summary>MLP ratio.</summary>
    public int MlpRatio { get; set; } = 4;
    /// <summary>Streams n.</summary>
    public int ExpansionRate { get; set; } = 4;
    /// <summary>Residual, Hc or Mhc.</summary>
    public ConnectionKind Connection { get; set; } = ConnectionKind.Mhc;
    /// <summary>Dynamic (input-dependent) mixing.</summary>
    public bool DynamicMixing { get; set; } = true;
    /// <summary>Dropout.</summary>
    public double Dropout { get; set; }
    /// <summary>Windows per step.</summary>
    public int BatchSize { get; set; } = 32;
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; set; } = 3e-3;
    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; set; } = 0.1;
    /// <summary>Warmup share.</summary>
    public double WarmupFraction { get; set; } = 0.02;
    /// <summary>Final learning rate share.</summary>
    public double FinalLearningRateFraction { get; set; } = 0.1;
    /// <summary>Epochs (validation after each).</summary>
    public int MaxEpochs { get; set; } = 10;
    /// <summary>Steps per epoch; null = derived from <see cref="BudgetMinutes"/> by timing a few steps first.</summary>
    public int? StepsPerEpoch { get; set; }
    /// <summary>Validation windows per epoch.</summary>
    public int ValidationWindows { get; set; } = 128;
    /// <summary>Seed.</summary>
    public int Seed { get; set; } = 1;
    /// <summary>
    /// libtorch threads. 1 by default: on a machine shared with other jobs, two OpenMP threads that wait
    /// for each other at every barrier measured 4-8x slower than one (2 threads pay off on idle cores).
    /// </summary>
    public int NumberOfThreads { get; set; } = 1;
    /// <summary>Training time to plan for, in minutes (used when <see cref="StepsPerEpoch"/> is null).</summary>
    public double? BudgetMinutes { get; set; } = 27;
}

/// <summary>The sample passage.</summary>
public sealed class GenerationConfig
{
    /// <summary>Prompt of the printed passage.</summary>
    public string Prompt { get; set; } = "It is a truth universally acknowledged";
    /// <summary>Characters generated.</summary>
    public int MaxNewTokens { get; set; } = 400;
    /// <summary>Temperature.</summary>
    public double Temperature { get; set; } = 0.8;
    /// <summary>Nucleus mass.</summary>
    public double TopP { get; set; } = 0.95;
    /// <summary>Seed.</summary>
    public int Seed { get; set; } = 7;
}

/// <summary>Overrides for <c>--quick</c> (a smoke run under a minute).</summary>
public sealed class QuickConfig
{
    /// <summary>Context length.</summary>
    public int ContextLength { get; set; } = 64;
    /// <summary>Width.</summary>
    public int Dim { get; set; } = 64;
    /// <summary>Blocks.</summary>
    public int Layers { get; set; } = 2;
    /// <summary>Heads.</summary>
    public int Heads { get; set; } = 2;
    /// <summary>MLP ratio.</summary>
    public int MlpRatio { get; set; } = 2;
    /// <summary>Streams.</summary>
    public int ExpansionRate { get; set; } = 2;
    /// <summary>Batch.</summary>
    public int BatchSize { get; set; } = 8;
    /// <summary>Epochs.</summary>
    public int MaxEpochs { get; set; } = 2;
    /// <summary>Steps per epoch.</summary>
    public int StepsPerEpoch { get; set; } = 12;
    /// <summary>Validation windows.</summary>
    public int ValidationWindows { get; set; } = 16;
    /// <summary>Characters of the validation text evaluated at the end.</summary>
    public int EvaluationCharacters { get; set; } = 2000;
    /// <summary>Characters generated.</summary>
    public int MaxNewTokens { get; set; } = 60;
}
