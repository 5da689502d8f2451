namespace Benchmarks;

/// <summary>Network sizes and repeat counts of the mixing benchmark: the sizes, or tiny ones for <c>--quick</c>.</summary>
public sealed record MixingSizes
{
    /// <summary>Blocks per stage of the Hyper-ResNet (main job: [1, 1, 1]).</summary>
    public int[] ResnetDepths { get; init; } = [1, 1, 1];

    /// <summary>Images per ResNet step (main job: 64).</summary>
    public int ResnetBatch { get; init; } = 64;

    /// <summary>Decoder width (text sample: 128).</summary>
    public int DecoderDim { get; init; } = 128;

    /// <summary>Decoder blocks (text sample: 4).</summary>
    public int DecoderLayers { get; init; } = 4;

    /// <summary>Decoder context (text sample: 128).</summary>
    public int DecoderContext { get; init; } = 128;

    /// <summary>Windows per decoder step (text sample: 32).</summary>
    public int DecoderBatch { get; init; } = 32;

    /// <summary>MLP stack width.</summary>
    public int MlpWidth { get; init; } = 256;

    /// <summary>MLP stack depth (blocks).</summary>
    public int MlpDepth { get; init; } = 64;

    /// <summary>Rows per MLP step.</summary>
    public int MlpBatch { get; init; } = 256;

    /// <summary>Characters generated per timed generation.</summary>
    public int GeneratedCharacters { get; init; } = 500;

    /// <summary>Untimed steps per variant before timing.</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>Timed rounds (the median is reported).</summary>
    public int Repeats { get; init; } = 7;

    /// <summary>Profiled steps per network and connection (the median per section is reported).</summary>
    public int ProfileSteps { get; init; } = 3;

    /// <summary>Timed generations.</summary>
    public int GenerationRepeats { get; init; } = 3;

    /// <summary>The sizes of the issue (full run).</summary>
    public static MixingSizes Full { get; } = new();

    /// <summary>Smoke-test sizes: every code path, figures not meaningful.</summary>
    public static MixingSizes Quick { get; } = new()
    {
        ResnetDepths = [1, 1],
        ResnetBatch = 8,
        DecoderDim = 32,
        DecoderLayers = 2,
        DecoderContext = 32,
        DecoderBatch = 2,
        MlpWidth = 32,
        MlpDepth = 8,
        MlpBatch = 16,
        GeneratedCharacters = 40,
        Warmup = 1,
        Repeats = 3,
        ProfileSteps = 1,
        GenerationRepeats = 1,
    };
}
