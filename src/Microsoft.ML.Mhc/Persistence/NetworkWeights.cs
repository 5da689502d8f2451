using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Writes and reads a module's state (parameters and buffers) as named, typed, shaped raw tensors.
/// </summary>
/// <remarks>
/// An explicit format rather than TorchSharp's <c>Module.save</c> so that a mismatch (a missing
/// tensor, a different shape) is reported by name, and so that weights on any device are written
/// from a CPU copy without moving the module itself.
/// </remarks>
internal static class NetworkWeights
{
    private const string Magic = "MHCW";
    private const int Version = 1;

    /// <summary>Serializes the state of <paramref name="module"/>.</summary>
    public static byte[] ToBytes(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            var state = module.state_dict();
            writer.Write(state.Count);
            foreach (var (name, tensor) in state)
            {
                using var scope = NewDisposeScope();
                var cpu = tensor.detach().cpu().contiguous();
                writer.Write(name);
                writer.Write((int)cpu.dtype);
                writer.Write(cpu.dim());
                foreach (var d in cpu.shape) writer.Write(d);
                var bytes = cpu.bytes;
                writer.Write(bytes.Length);
                writer.Write(bytes);
            }
        }
        return stream.ToArray();
    }

    /// <summary>Copies serialized state into <paramref name="module"/>, which must have the same structure.</summary>
    /// <exception cref="InvalidDataException">The bytes are not weights, or do not fit the module (names, shapes, types).</exception>
    public static void Load(nn.Module module, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(data);
        var state = module.state_dict();
        using var reader = new BinaryReader(new MemoryStream(data, writable: false), Encoding.UTF8);
        try
        {
            if (reader.ReadString() != Magic) throw new InvalidDataException("The weights do not start with the mHC weights tag.");
            int version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"Weights format version {version} is not supported (expected {Version}).");
            int count = reader.ReadInt32();
            if (count != state.Count)
                throw new InvalidDataException($"The weights hold {count} tensors but the network has {state.Count}.");
            using var noGrad = no_grad();
            for (int i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                string name = reader.ReadString();
                var dtype = (ScalarType)reader.ReadInt32();
                long dims = reader.ReadInt64();
                var shape = new long[dims];
                for (int d = 0; d < dims; d++) shape[d] = reader.ReadInt64();
                int length = reader.ReadInt32();
                var bytes = reader.ReadBytes(length);
                if (bytes.Length != length) throw new InvalidDataException($"The weights end inside tensor '{name}'.");
                if (!state.TryGetValue(name, out var target))
                    throw new InvalidDataException($"The weights hold a tensor '{name}' that the network does not have.");
                if (!target.shape.SequenceEqual(shape) || target.dtype != dtype)
                    throw new InvalidDataException(
                        $"Tensor '{name}': the weights hold {dtype} [{string.Join(", ", shape)}], the network expects {target.dtype} [{string.Join(", ", target.shape)}].");
                var source = empty(shape, dtype);
                source.bytes = bytes;
                target.copy_(source.to(target.device));
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The weights end unexpectedly.", e);
        }
    }
}
