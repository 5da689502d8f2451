using Mhc.Models.IO;
using System.Globalization;
using System.Text.Json;

namespace Mhc.Samples.Figures;

/// <summary>
/// Writes the figures a sample measured as one flat JSON object (<c>{"name": value, ...}</c>),
/// atomically: the JSON goes to a temporary file in the same folder which then replaces the target,
/// so a reader (a benchmark driver, CI) never sees a half-written file.
/// </summary>
public static class FiguresJson
{
    /// <summary>
    /// Writes <paramref name="figures"/> to <paramref name="path"/>, creating its folder if needed.
    /// Values may be null, strings, booleans, numbers, lists of doubles (a per-epoch series), a <c>JsonObject</c> or a <c>JsonArray</c>. Non-finite doubles (a diverged loss) are
    /// written as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c> because JSON has no such numbers.
    /// </summary>
    /// <param name="path">Target file.</param>
    /// <param name="figures">Name/value pairs, written in order; names must be unique.</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, object?>> figures)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(figures);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            WriteObject(writer, figures);
        });
    }

    /// <summary>Reads a figures file back as name -> JSON value.</summary>
    /// <param name="path">A file written by <see cref="Write"/>.</param>
    public static IReadOnlyDictionary<string, JsonElement> Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: expected a JSON object of figures, found {document.RootElement.ValueKind}.");
        }

        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
    }

    private static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> figures)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        writer.WriteStartObject();
        foreach (var (name, value) in figures)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("A figure has an empty name.", nameof(figures));
            }

            if (!seen.Add(name))
            {
                throw new ArgumentException($"Figure '{name}' appears twice; figure names must be unique.", nameof(figures));
            }

            writer.WritePropertyName(name);
            WriteValue(writer, name, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, string name, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case double d:
                WriteDouble(writer, d);
                break;
            case float f:
                WriteDouble(writer, f);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case int or long or short or sbyte or byte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case IEnumerable<double> series:
                writer.WriteStartArray();
                foreach (var d in series) WriteDouble(writer, d);
                writer.WriteEndArray();
                break;
            case System.Text.Json.Nodes.JsonObject or System.Text.Json.Nodes.JsonArray:
                // The nested values the contracts ask for: an options object (e.g. the sweep's best_options) or an
                // array of flat objects (e.g. the depth study's cells).
                ((System.Text.Json.Nodes.JsonNode)value).WriteTo(writer);
                break;
            default:
                throw new ArgumentException(
                    $"Figure '{name}' is a {value.GetType().Name}; figures must be null, a string, a bool, a number, a list of doubles, a JsonObject or a JsonArray.", nameof(value));
        }
    }

    private static void WriteDouble(Utf8JsonWriter writer, double d)
    {
        if (double.IsFinite(d))
        {
            writer.WriteNumberValue(d);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        }
    }
}
