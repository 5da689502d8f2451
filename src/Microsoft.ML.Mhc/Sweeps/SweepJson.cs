using Mhc.Models.IO;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.Sweeps;

/// <summary>
/// JSON for sweeps: option snapshots and the run history. The history follows the layout of a Model Builder
/// <c>.mbconfig</c> (<c>Scenario</c>, <c>TrainingOption</c> with <c>ValidationOption</c>, <c>RunHistory</c> with
/// <c>Trials</c> of <c>TrainerName</c>/<c>Score</c>/<c>RuntimeInSeconds</c>/<c>Parameter</c>, <c>Estimators</c>,
/// <c>Schema</c>, <c>MetricName</c>), with the trial's epochs, rung, folds and status added.
/// </summary>
public static class SweepJson
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// The public fields and readable properties of <paramref name="options"/> whose types are numbers, booleans,
    /// strings, enums (as names) or arrays of those; other members (delegates, data views, tokens, nested objects)
    /// are left out. Used for the <c>best_options</c> of sweep reports.
    /// </summary>
    public static JsonObject Describe(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var json = new JsonObject();
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance;
        var type = options.GetType();
        foreach (var f in type.GetFields(flags).Where(f => IsSimple(f.FieldType))) json[f.Name] = ToNode(f.GetValue(options));
        foreach (var p in type.GetProperties(flags).Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && IsSimple(p.PropertyType)))
            json[p.Name] = ToNode(p.GetValue(options));
        return json;
    }

    private static bool IsSimple(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t.IsArray) return IsSimple(t.GetElementType()!);
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal);
    }

    /// <summary>Invariant-culture text of a swept value (round-trip precision for floating point).</summary>
    public static string FormatValue(object? value) => value switch
    {
        null => "null",
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Writes <paramref name="node"/> as indented JSON, through a temporary file so readers never see half a file.</summary>
    public static void Write(JsonNode node, string path)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = System.Text.Encoding.UTF8.GetBytes(node.ToJsonString(Indented));
        AtomicFile.Write(path, stream => stream.Write(text));
    }

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        char c => JsonValue.Create(c.ToString()),
        Enum e => JsonValue.Create(e.ToString()),
        float f => float.IsFinite(f) ? JsonValue.Create(f) : JsonValue.Create(f.ToString(CultureInfo.InvariantCulture)),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        short or byte or sbyte or ushort => JsonValue.Create(Convert.ToInt32(value, CultureInfo.InvariantCulture)),
        uint or ulong => JsonValue.Create(Convert.ToUInt64(value, CultureInfo.InvariantCulture)),
        decimal m => JsonValue.Create(m),
        System.Collections.IEnumerable items when value is not string => ArrayOf(items),
        _ => null,
    };

    private static JsonArray? ArrayOf(System.Collections.IEnumerable items)
    {
        var array = new JsonArray();
        foreach (var item in items)
        {
            var node = ToNode(item);
            if (node is null && item is not null) return null;
            array.Add(node);
        }
        return array;
    }

    internal static JsonObject TrialToJson(SweepTrial t, string trainerName)
    {
        var parameter = new JsonObject { ["_SCHEMA_"] = "e0" };
        var e0 = new JsonObject();
        foreach (var (k, v) in t.Parameters) e0[k] = ToNode(v);
        if (t.Epochs is { } ep) e0["Epochs"] = ep;
        parameter["e0"] = e0;
        var json = new JsonObject
        {
            ["Version"] = 1,
            ["Type"] = "Trial",
            ["Id"] = t.Id,
            ["TrainerName"] = trainerName,
            ["Score"] = double.IsFinite(t.Metric) ? t.Metric : null,
            ["RuntimeInSeconds"] = Math.Round(t.Duration.TotalSeconds, 3),
            ["Parameter"] = parameter,
            ["Status"] = t.Status.ToString(),
            ["IsBaseline"] = t.IsBaseline,
        };
        if (t.Epochs is not null) { json["Epochs"] = t.Epochs; json["Bracket"] = t.Bracket; json["Rung"] = t.Rung; }
        if (t.FoldMetrics.Count > 1) json["FoldScores"] = new JsonArray(t.FoldMetrics.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray());
        if (t.Error is not null) json["Error"] = t.Error;
        return json;
    }
}
