using System.Text.Json;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>What a saved scoring segment needs besides the network to score like the transformer it was saved from.</summary>
internal sealed class ScoringSettings
{
    /// <summary>Rows per forward pass.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>The columns the segment adds, in the scorer's order (the input may already have columns of these names).</summary>
    public string[] Columns { get; set; } = [];

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <exception cref="InvalidDataException">The text is not scoring settings.</exception>
    public static ScoringSettings FromJson(string json)
    {
        try
        {
            var settings = JsonSerializer.Deserialize<ScoringSettings>(json) ?? throw new InvalidDataException("Empty scoring settings.");
            if (settings.BatchSize < 1) throw new InvalidDataException($"The saved scoring batch size must be at least 1; found {settings.BatchSize}.");
            if (settings.Columns.Length == 0) throw new InvalidDataException("The saved scoring settings name no output column.");
            return settings;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The saved scoring settings are not valid JSON: {e.Message}", e);
        }
    }
}
