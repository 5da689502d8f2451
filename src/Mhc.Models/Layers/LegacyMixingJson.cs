using System.Text.Json.Nodes;

namespace Mhc.Models.Layers;

/// <summary>
/// Reads network options saved before <see cref="MixingSettings"/> existed. Such options carried the mixing
/// settings flat (<c>Connection</c>, <c>ExpansionRate</c>, <c>DynamicMixing</c>, <c>Init</c> and, for the UNet,
/// <c>SkipConstraint</c> and the connection <c>Plain</c>); saved models must keep loading, so their JSON is
/// moved into a <c>Mixing</c> object before it is deserialised.
/// </summary>
public static class LegacyMixingJson
{
    private static readonly (string Old, string New)[] Moved =
    [
        ("Connection", nameof(MixingSettings.Connection)),
        ("ExpansionRate", nameof(MixingSettings.ExpansionRate)),
        ("DynamicMixing", nameof(MixingSettings.DynamicMixing)),
        ("Init", nameof(MixingSettings.Init)),
        ("SkipConstraint", nameof(MixingSettings.Constraint)),
    ];

    /// <summary>
    /// Moves the flat mixing settings of a network's options (as JSON) into a <c>Mixing</c> object, in place;
    /// options that already have one, or no <paramref name="options"/>, are left alone.
    /// </summary>
    public static void Upgrade(JsonObject? options)
    {
        if (options is null || options.ContainsKey("Mixing")) return;
        var mixing = new JsonObject();
        foreach (var (old, name) in Moved)
        {
            if (!options.TryGetPropertyValue(old, out var value)) continue;
            options.Remove(old);
            // The UNet's own connection enum named the residual network "Plain" (a number 0 either way).
            if (old == "Connection" && value is JsonValue v && v.TryGetValue<string>(out var s) && s == "Plain")
                value = JsonValue.Create(nameof(ConnectionKind.Residual));
            mixing[name] = value;
        }
        options["Mixing"] = mixing;
    }
}
