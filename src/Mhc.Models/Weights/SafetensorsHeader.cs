using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace Mhc.Models.Weights;

/// <summary>
/// Reads the index of a safetensors file (an 8-byte little-endian header length, then a JSON object of
/// <c>name: {dtype, shape, data_offsets}</c>) without reading any tensor data, so a file can be checked against a network
/// before anything is copied into it.
/// </summary>
internal static class SafetensorsHeader
{
    // The safetensors reference reader refuses headers above 100 MB; a larger length means a corrupt or foreign file.
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>The tensors listed in <paramref name="path"/>'s header (the optional <c>__metadata__</c> entry is skipped).</summary>
    /// <exception cref="InvalidDataException">The file is not a safetensors file.</exception>
    public static IReadOnlyList<TensorEntry> Read(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"'{path}' is not a safetensors file: it is shorter than the 8-byte header length.");
        long length = BinaryPrimitives.ReadInt64LittleEndian(prefix);
        if (length < 2 || length > MaxHeaderBytes || length > stream.Length - 8)
            throw new InvalidDataException($"'{path}' is not a safetensors file: header length {length} for a file of {stream.Length} bytes.");
        var json = new byte[length];
        stream.ReadExactly(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var entries = new List<TensorEntry>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__") continue;
                var dtype = p.Value.GetProperty("dtype").GetString() ?? "";
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                entries.Add(new TensorEntry(p.Name, ScalarTypeOf(dtype, p.Name, path), shape));
            }
            return entries;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' has an unreadable safetensors header: {e.Message}", e);
        }
    }

    private static ScalarType ScalarTypeOf(string dtype, string name, string path) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"Tensor '{name}' in '{path}' has the safetensors dtype '{dtype}', which TorchSharp cannot hold."),
    };
}
