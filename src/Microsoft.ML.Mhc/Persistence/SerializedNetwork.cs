using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// A trained network as one self-describing text value: a format tag line, a JSON header line
/// (network kind, its configuration, weight length and SHA-256) and the weights in base64.
/// </summary>
/// <remarks>
/// Text, not bytes, because the value travels inside a saved ML.NET model as the lookup value of a
/// stock <c>MapValue</c> transform, which stores text losslessly; see <see cref="SavedScoringChain"/>.
/// The checksum turns a damaged model file into a clear error instead of silently wrong scores.
/// </remarks>
internal sealed class SerializedNetwork
{
    /// <summary>The first line of every encoded network (format and version).</summary>
    public const string FormatTag = "MHC-NETWORK/1";

    /// <summary>Creates a serialized network.</summary>
    /// <param name="kind">What reads <paramref name="configJson"/>, e.g. <c>image-classifier</c>.</param>
    /// <param name="configJson">The network's configuration as a JSON object.</param>
    /// <param name="weights">The weights, as written by <see cref="NetworkWeights.ToBytes"/>.</param>
    public SerializedNetwork(string kind, string configJson, byte[] weights)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentException.ThrowIfNullOrWhiteSpace(configJson);
        ArgumentNullException.ThrowIfNull(weights);
        Kind = kind;
        ConfigJson = configJson;
        Weights = weights;
    }

    /// <summary>What reads <see cref="ConfigJson"/>.</summary>
    public string Kind { get; }

    /// <summary>The network's configuration as a JSON object.</summary>
    public string ConfigJson { get; }

    /// <summary>The serialized weights.</summary>
    public byte[] Weights { get; }

    /// <summary>Encodes the network as one text value.</summary>
    public string Encode()
    {
        var header = new JsonObject
        {
            ["kind"] = Kind,
            ["config"] = JsonNode.Parse(ConfigJson),
            ["weightBytes"] = Weights.Length,
            ["weightSha256"] = Convert.ToHexString(SHA256.HashData(Weights)),
        };
        var sb = new StringBuilder(FormatTag.Length + ConfigJson.Length + Weights.Length * 4 / 3 + 256);
        sb.Append(FormatTag).Append('\n');
        sb.Append(header.ToJsonString()).Append('\n');
        sb.Append(Convert.ToBase64String(Weights));
        return sb.ToString();
    }

    /// <summary>Decodes and verifies a value written by <see cref="Encode"/>.</summary>
    /// <param name="text">The encoded network.</param>
    /// <param name="expectedKind">When given, the kind the caller can read.</param>
    /// <exception cref="InvalidDataException">The value is not an encoded network, is of another kind, or is damaged.</exception>
    public static SerializedNetwork Decode(ReadOnlySpan<char> text, string? expectedKind = null)
    {
        var header = ReadHeader(text, out int weightsStart);
        string kind = header["kind"]?.GetValue<string>() ?? throw new InvalidDataException("Damaged mHC network: no 'kind' in the header.");
        if (expectedKind is not null && kind != expectedKind)
            throw new InvalidDataException($"The mHC network is a '{kind}', but a '{expectedKind}' was expected.");
        var config = header["config"] ?? throw new InvalidDataException("Damaged mHC network: no 'config' in the header.");
        int length = header["weightBytes"]?.GetValue<int>() ?? -1;
        string sha = header["weightSha256"]?.GetValue<string>() ?? "";
        byte[] weights;
        try
        {
            weights = Convert.FromBase64String(text[weightsStart..].ToString());
        }
        catch (FormatException e)
        {
            throw new InvalidDataException("Damaged mHC network: the weights are not valid base64.", e);
        }
        if (weights.Length != length || !string.Equals(Convert.ToHexString(SHA256.HashData(weights)), sha, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException(
                $"Damaged mHC network: the weights do not match their checksum ({weights.Length} bytes read, {length} expected).");
        return new SerializedNetwork(kind, config.ToJsonString(), weights);
    }

    // The format tag line and the JSON header line; weightsStart is where the base64 weights begin.
    private static JsonObject ReadHeader(ReadOnlySpan<char> text, out int weightsStart)
    {
        int first = text.IndexOf('\n');
        if (first < 0 || !text[..first].SequenceEqual(FormatTag))
        {
            var start = text[..Math.Min(text.Length, 40)].ToString().Replace('\n', ' ');
            throw new InvalidDataException(
                $"Not an mHC network: expected the format tag '{FormatTag}' but found '{start}'. " +
                "The model file was not written by Microsoft.ML.Mhc, or by an incompatible version.");
        }
        var rest = text[(first + 1)..];
        int second = rest.IndexOf('\n');
        if (second < 0) throw new InvalidDataException("Damaged mHC network: the JSON header line is missing.");
        weightsStart = first + 1 + second + 1;
        try
        {
            return JsonNode.Parse(rest[..second].ToString())?.AsObject()
                ?? throw new InvalidDataException("Damaged mHC network: empty JSON header.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Damaged mHC network: the JSON header does not parse ({e.Message}).", e);
        }
    }
}
