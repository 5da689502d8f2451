namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>Default column names of the text-generation trainer and transformer.</summary>
public static class DefaultColumnNames
{
    /// <summary>The training (and evaluation) text: "Text".</summary>
    public const string Text = "Text";

    /// <summary>The prompt the transformer continues: "Prompt".</summary>
    public const string Prompt = "Prompt";

    /// <summary>The generated continuation: "GeneratedText".</summary>
    public const string GeneratedText = "GeneratedText";

    /// <summary>Per-row negative log-likelihood of the text column, in nats: "NegativeLogLikelihood".</summary>
    public const string NegativeLogLikelihood = "NegativeLogLikelihood";

    /// <summary>Per-row number of tokens that likelihood covers: "PredictedTokens".</summary>
    public const string PredictedTokens = "PredictedTokens";
}
