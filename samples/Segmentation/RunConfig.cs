using Mhc.Models.Layers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mhc.Models.Constraints;
using Mhc.Models.Segmentation;
using Microsoft.ML.Mhc.Segmentation;

namespace SegmentationSample;

/// <summary>
/// Everything a run uses, as Model Builder keeps it in its config file: data sizes, the network, the training
/// settings. Loaded from <c>Segmentation.config.json</c> (full run) or <see cref="Quick"/>, then overridden by the
/// command line, and written next to the outputs so a run can be repeated.
/// </summary>
public sealed class RunConfig
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Training canvases (drawn from the training digits).</summary>
    public int TrainCanvases { get; set; } = 3000;

    /// <summary>Test canvases (drawn from the held-out digits).</summary>
    public int TestCanvases { get; set; } = 1000;

    /// <summary>Seed of the digit split, the canvases and the training.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Connections to train, in order; the last is the one the figures' top-level values describe.</summary>
    public ConnectionKind[] Connections { get; set; } = [ConnectionKind.Residual, ConnectionKind.Mhc];

    /// <summary>Number of 2x downsamplings.</summary>
    public int Depth { get; set; } = 3;

    /// <summary>Channels at full resolution.</summary>
    public int BaseWidth { get; set; } = 16;

    /// <summary>Blocks per level.</summary>
    public int BlocksPerStage { get; set; } = 1;

    /// <summary>Streams n of HC/mHC.</summary>
    public int ExpansionRate { get; set; } = 2;

    /// <summary>History window H of the skips.</summary>
    public int MaxHistory { get; set; } = 3;

    /// <summary>Skip constraint under mHC.</summary>
    public ConstraintKind SkipConstraint { get; set; } = ConstraintKind.DoublyStochastic;

    /// <summary>Epochs.</summary>
    public int MaxEpochs { get; set; } = 12;

    /// <summary>Batch size.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; set; } = 3e-3;

    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Class weighting of the cross-entropy.</summary>
    public SegmentationClassWeighting ClassWeighting { get; set; } = SegmentationClassWeighting.InverseSquareRootFrequency;

    /// <summary>Weight of the Dice term.</summary>
    public double DiceLossWeight { get; set; } = 0.5;

    /// <summary>libtorch threads (0: all cores).</summary>
    public int Threads { get; set; }

    /// <summary>Per model: stop after the first epoch that ends past this many minutes (null: no limit).</summary>
    public double? BudgetMinutes { get; set; }

    /// <summary>Canvases shown in the PNG grid.</summary>
    public int GridRows { get; set; } = 6;

    /// <summary>Whether this is the quick (smoke test) configuration.</summary>
    public bool Quick { get; set; }

    /// <summary>The settings of <c>--quick</c>: a few hundred canvases, a small network, well under a minute.</summary>
    public static RunConfig QuickConfig() => new()
    {
        TrainCanvases = 96,
        TestCanvases = 24,
        Connections = [ConnectionKind.Residual, ConnectionKind.Mhc],
        Depth = 2,
        BaseWidth = 16,
        MaxEpochs = 1,
        BatchSize = 16,
        Threads = 2,
        GridRows = 3,
        Quick = true,
    };

    /// <summary>Reads a config file.</summary>
    /// <exception cref="ArgumentException">The file does not parse.</exception>
    public static RunConfig Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), Json) ?? throw new ArgumentException($"{path}: empty config.");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not a valid run config ({e.Message}).", e);
        }
    }

    /// <summary>Writes the config.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
