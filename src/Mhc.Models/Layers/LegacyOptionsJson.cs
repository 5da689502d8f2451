using System.Text.Json.Nodes;

namespace Mhc.Models.Layers;

/// <summary>
/// Reads network options saved before <see cref="MixingSettings"/> and <c>TransformerSettings</c> existed. Such
/// options carried the mixing settings flat (<c>Connection</c>, <c>ExpansionRate</c>, <c>DynamicMixing</c>,
/// <c>Init</c> and, for the UNet, <c>SkipConstraint</c> and the connection <c>Plain</c>), and a transformer's
/// <c>Dim</c>, <c>Layers</c>, <c>Heads</c>, <c>MlpRatio</c> and <c>Dropout</c> flat too; saved models must keep
/// loading, so their JSON is moved into <c>Mixing</c> and <c>Transformer</c> objects before it is deserialised.
/// </summary>
internal static class LegacyOptionsJson
{
    private static readonly (string Old, string New)[] MixingKeys =
    [
        ("Connection", nameof(MixingSettings.Connection)),
        ("ExpansionRate", nameof(MixingSettings.ExpansionRate)),
        ("DynamicMixing", nameof(MixingSettings.DynamicMixing)),
        ("Init", nameof(MixingSettings.Init)),
        ("SkipConstraint", nameof(MixingSettings.Constraint)),
    ];

    private static readonly (string Old, string New)[] TransformerKeys =
        [("Dim", "Dim"), ("Layers", "Layers"), ("Heads", "Heads"), ("MlpRatio", "MlpRatio"), ("Dropout", "Dropout")];

    /// <summary>
    /// Moves the flat settings of a network's options (as JSON) into <c>Mixing</c> and, for a transformer (options
    /// with <c>Heads</c>), <c>Transformer</c> objects, in place; options already in today's form, or no
    /// <paramref name="options"/>, are left alone.
    /// </summary>
    public static void Upgrade(JsonObject? options)
    {
        if (options is null) return;
        if (!options.ContainsKey("Mixing")) options["Mixing"] = Move(options, MixingKeys);
        if (!options.ContainsKey("Transformer") && options.ContainsKey("Heads")) options["Transformer"] = Move(options, TransformerKeys);
    }

    private static JsonObject Move(JsonObject options, (string Old, string New)[] keys)
    {
        var moved = new JsonObject();
        foreach (var (old, name) in keys)
        {
            if (!options.TryGetPropertyValue(old, out var value)) continue;
            options.Remove(old);
            // The UNet's own connection enum named the residual network "Plain" (a number 0 either way).
            if (old == "Connection" && value is JsonValue v && v.TryGetValue<string>(out var s) && s == "Plain")
                value = JsonValue.Create(nameof(ConnectionKind.Residual));
            moved[name] = value;
        }
        return moved;
    }
}
