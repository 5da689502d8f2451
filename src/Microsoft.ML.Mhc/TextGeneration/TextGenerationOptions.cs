using Microsoft.ML.SearchSpace;
using Mhc.Models.Transformers;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>How text is sampled from a trained decoder.</summary>
/// <remarks>
/// <see cref="Temperature"/>, <see cref="TopK"/> and <see cref="TopP"/> carry <c>Microsoft.ML.SearchSpace</c>
/// attributes (defaults equal to the property defaults), for sweeping the sampling of a trained model against a
/// metric of the generated text. They leave the network and its loss unchanged, so they are not part of the
/// search space of <see cref="MhcDecoderTrainer.Options"/>.
/// </remarks>
public sealed class TextGenerationOptions
{
    /// <summary>Tokens (characters for the default vocabulary) generated per prompt. Default 200.</summary>
    public int MaxNewTokens { get; set; } = 200;

    /// <summary>Divides the logits before sampling: below 1 is more conservative, above 1 more varied. Must be positive. Default 0.8.</summary>
    [Range(0.5, 1.5, 0.8, false)]
    public double Temperature { get; set; } = 0.8;

    /// <summary>Samples only among the k most likely tokens; 0 turns the cut off. Default 0.</summary>
    [Choice(new object[] { 0, 5, 20, 50 }, 0)]
    public int TopK { get; set; }

    /// <summary>Samples only among the most likely tokens whose probabilities add up to p (nucleus sampling); 1 turns it off. Default 0.95.</summary>
    [Range(0.8, 1.0, 0.95, false)]
    public double TopP { get; set; } = 0.95;

    /// <summary>
    /// Seed of the sampling. With a seed, the same prompt always gives the same text (each prompt starts
    /// from this seed, whatever the row order); null draws a fresh seed per prompt. Default null.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// What to do with prompt characters (or tokens) the model never saw in training. False (default): they are mapped,
    /// as <see cref="CharacterVocabulary"/> describes (a character becomes its base letter, é to e; else a space when
    /// the vocabulary has one; else it is skipped; unknown tokenizer ids are skipped), and generation goes on. True:
    /// generation throws an <see cref="ArgumentException"/> that lists them.
    /// </summary>
    public bool RejectUnknownCharacters { get; set; }

    /// <summary>Use the key/value cache (one decoder step per token). Turn off only to measure its effect. Default true.</summary>
    public bool UseCache { get; set; } = true;

    /// <summary>A copy.</summary>
    public TextGenerationOptions Clone() => (TextGenerationOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, $"{nameof(MaxNewTokens)} must be 0 or more; got {MaxNewTokens}.");
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature,
                $"{nameof(Temperature)} must be a positive number; got {Temperature}. For the most likely continuation use {nameof(TopK)} = 1.");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, $"{nameof(TopK)} must be 0 (off) or positive; got {TopK}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, $"{nameof(TopP)} must be in (0, 1]; got {TopP}.");
    }

    internal TokenSampler CreateSampler()
    {
        Validate();
        return new TokenSampler(Temperature, TopK, TopP);
    }
}
