using System.Globalization;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>How well a text-generation model predicts a text: its mean loss per character and per token.</summary>
public sealed class TextGenerationMetrics
{
    /// <summary>Creates the metrics from summed negative log-likelihood and counts.</summary>
    /// <param name="totalNats">Summed negative log-likelihood of the predicted tokens, in nats.</param>
    /// <param name="tokens">Tokens predicted.</param>
    /// <param name="characters">Characters those tokens cover.</param>
    public TextGenerationMetrics(double totalNats, long tokens, long characters)
    {
        if (tokens <= 0) throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "No token was evaluated.");
        if (characters <= 0) throw new ArgumentOutOfRangeException(nameof(characters), characters, "No character was evaluated.");
        TotalNats = totalNats;
        Tokens = tokens;
        Characters = characters;
    }

    /// <summary>Mean loss per character in nats (natural log): the figure compared across tokenizations.</summary>
    public double NatsPerCharacter => TotalNats / Characters;

    /// <summary>Mean loss per character in bits (what compressors report as bits/char).</summary>
    public double BitsPerCharacter => NatsPerCharacter / Math.Log(2);

    /// <summary>Mean loss per token in nats (the training loss).</summary>
    public double NatsPerToken => TotalNats / Tokens;

    /// <summary>Per-token perplexity, exp(<see cref="NatsPerToken"/>).</summary>
    public double Perplexity => Math.Exp(NatsPerToken);

    /// <summary>Per-character perplexity, exp(<see cref="NatsPerCharacter"/>).</summary>
    public double CharacterPerplexity => Math.Exp(NatsPerCharacter);

    /// <summary>Tokens evaluated.</summary>
    public long Tokens { get; }

    /// <summary>Characters evaluated.</summary>
    public long Characters { get; }

    /// <summary>Summed negative log-likelihood, in nats.</summary>
    public double TotalNats { get; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{NatsPerCharacter:F4} nats/char ({BitsPerCharacter:F4} bits/char), perplexity {Perplexity:F3} per token, {Tokens} tokens, {Characters} chars");
}
