using Mhc.Models.IO;
using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Mhc.Models.Weights;

/// <summary>
/// Saves and loads the weights (the state_dict: parameters and persistent buffers, under their PyTorch-style names such
/// as <c>stem.conv.weight</c> or <c>blocks.0.phi</c>) of any network as safetensors (the default) or PyTorch <c>.pt</c>,
/// through TorchSharp.PyBridge, so weights move between this library and PyTorch unchanged.
/// </summary>
/// <remarks>
/// <para>Saving is atomic: the file is written to a hidden temporary file in the same folder and renamed over the
/// target, so a failed save leaves the old file (or none) and no partial one.</para>
/// <para>Loading first checks the file against the network: a missing tensor, an unexpected tensor, a wrong shape or a
/// wrong dtype throws <see cref="InvalidDataException"/> naming each tensor with what was expected and what was found,
/// and the network is left untouched.</para>
/// </remarks>
public static class ModuleWeights
{
    /// <summary>The format a path's extension implies: <c>.pt</c>, <c>.pth</c> and <c>.bin</c> are PyTorch, anything else safetensors.</summary>
    public static WeightsFormat FormatOf(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".pt" or ".pth" or ".bin" => WeightsFormat.PyTorch,
            _ => WeightsFormat.Safetensors,
        };
    }

    /// <summary>The tensors of <paramref name="module"/>'s state_dict: the names, dtypes and shapes a weights file must have.</summary>
    public static IReadOnlyList<TensorEntry> Entries(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.state_dict().Select(kv => new TensorEntry(kv.Key, kv.Value.dtype, kv.Value.shape)).ToList();
    }

    /// <summary>Writes <paramref name="module"/>'s state_dict to <paramref name="path"/> atomically; returns the full path.</summary>
    /// <param name="module">The network.</param>
    /// <param name="path">The target file; its folder is created.</param>
    /// <param name="format">The format; null: from the extension (<see cref="FormatOf"/>), so <c>.safetensors</c> or any other name gives safetensors.</param>
    public static string Save(nn.Module module, string path, WeightsFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var kind = format ?? FormatOf(path);
        // A fresh file each time: PyBridge's static writers do not truncate a longer existing file, and the stream
        // overloads with leaveOpen let the data be flushed to disk before the rename makes it visible.
        return AtomicFile.Write(path, stream =>
        {
            if (kind == WeightsFormat.PyTorch) module.save_py(stream, leaveOpen: true);
            else module.save_safetensors(stream, leaveOpen: true);
        });
    }

    /// <summary>The tensors a weights file holds (names, dtypes, shapes), read without loading it into a network.</summary>
    /// <param name="path">The file.</param>
    /// <param name="format">The format; null: from the extension.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not in the format.</exception>
    public static IReadOnlyList<TensorEntry> ReadEntries(string path, WeightsFormat? format = null)
    {
        ThrowIfMissing(path);
        if ((format ?? FormatOf(path)) == WeightsFormat.Safetensors) return SafetensorsHeader.Read(path);
        using var scope = NewDisposeScope();
        return ReadPyTorch(path).Select(kv => new TensorEntry(kv.Key, kv.Value.dtype, kv.Value.shape)).ToList();
    }

    /// <summary>Loads the weights in <paramref name="path"/> into <paramref name="module"/> after checking that they fit it.</summary>
    /// <param name="module">The network, built with the same options as the one saved.</param>
    /// <param name="path">The file.</param>
    /// <param name="format">The format; null: from the extension.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file does not fit the network (each tensor named) or is not in the format.</exception>
    public static void Load(nn.Module module, string path, WeightsFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ThrowIfMissing(path);
        var expected = Entries(module);
        if ((format ?? FormatOf(path)) == WeightsFormat.Safetensors)
        {
            // The header alone is enough to check, so nothing is read into memory for a file that does not fit.
            WeightsCheck.ThrowIfMismatch(expected, SafetensorsHeader.Read(path), path);
            module.load_safetensors(path, strict: true);
            return;
        }
        // A .pt file is a pickle: the index is only known once it is unpickled, so it is read once, checked, and the
        // same tensors are copied in (no second read).
        using var scope = NewDisposeScope();
        var state = ReadPyTorch(path);
        WeightsCheck.ThrowIfMismatch(expected, state.Select(kv => new TensorEntry(kv.Key, kv.Value.dtype, kv.Value.shape)).ToList(), path);
        using var noGrad = no_grad();
        module.load_state_dict(state, strict: true);
    }

    private static Dictionary<string, Tensor> ReadPyTorch(string path)
    {
        Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"'{path}' is not a PyTorch state_dict file (torch.save of a state_dict): {e.Message}", e);
        }
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        // The unpickled Hashtable has no meaningful order (string hashes are randomised per process); sorting by name
        // makes entries and error messages the same on every run.
        foreach (var kv in table.Cast<DictionaryEntry>().OrderBy(kv => (string)kv.Key, StringComparer.Ordinal))
        {
            if (kv.Value is not Tensor t)
                throw new InvalidDataException($"'{path}' holds '{kv.Key}' of type {kv.Value?.GetType().Name ?? "null"}; a state_dict holds tensors only.");
            state[(string)kv.Key] = t;
        }
        return state;
    }

    private static void ThrowIfMissing(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The weights file '{path}' does not exist.", path);
    }
}
