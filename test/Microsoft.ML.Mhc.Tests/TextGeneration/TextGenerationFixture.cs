using Mhc.Models;
using Mhc.Models.Layers;
using Microsoft.ML.Mhc.TextGeneration;

namespace Microsoft.ML.Mhc.Tests.TextGeneration;

public sealed class TextRow
{
    public string Text = "";
}

public sealed class PromptRow
{
    public string Prompt = "";
}

public sealed class GeneratedRow
{
    public string Prompt = "";
    public string GeneratedText = "";
}

/// <summary>A tiny corpus and a tiny decoder trained once for the tests that only read a model.</summary>
public sealed class TextGenerationFixture
{
    public static readonly string[] Lines =
    [
        "the cat sat on the mat.",
        "the dog sat on the log.",
        "a cat and a dog sat on a mat.",
        "the cat saw the dog on the log.",
    ];

    public TextGenerationFixture()
    {
        MhcEnvironment.EnsureTorch();
        Ml = new MLContext(seed: 1);
        Train = Ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new TextRow { Text = Lines[i % Lines.Length] }).ToArray());
        Validation = Ml.Data.LoadFromEnumerable(Lines.Select(l => new TextRow { Text = l }).ToArray());
        Model = Ml.TextGeneration().Trainers.MhcDecoder(Options()).Fit(Train);
    }

    public static MhcDecoderTrainer.Options Options(ConnectionKind connection = ConnectionKind.Mhc, int epochs = 3) => new()
    {
        ContextLength = 16, Dim = 32, Layers = 1, Heads = 2, MlpRatio = 2, ExpansionRate = 2, Connection = connection,
        Dropout = 0, MaxEpochs = epochs, StepsPerEpoch = 25, BatchSize = 8, LearningRate = 3e-3, ValidationWindows = 16,
        NumberOfThreads = 1, Seed = 3, Generation = new TextGenerationOptions { MaxNewTokens = 12, Seed = 5 },
    };

    public MLContext Ml { get; }

    public IDataView Train { get; }

    public IDataView Validation { get; }

    public MhcTextGenerationTransformer Model { get; }
}
