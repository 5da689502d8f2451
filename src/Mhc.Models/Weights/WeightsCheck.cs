namespace Mhc.Models.Weights;

/// <summary>
/// Compares the tensors of a weights file with those of the network it is loaded into, before anything is copied, so a
/// wrong file fails with every problem named instead of a libtorch copy error or a half-loaded network.
/// </summary>
internal static class WeightsCheck
{
    // Enough lines to see the pattern of a wrong file (e.g. another depth) without flooding the message.
    private const int MaxListed = 20;

    /// <summary>Throws when <paramref name="found"/> (the file) and <paramref name="expected"/> (the network) differ in names, shapes or dtypes.</summary>
    /// <exception cref="InvalidDataException">The file does not fit; the message names each tensor with the expected and the found shape or dtype.</exception>
    public static void ThrowIfMismatch(IReadOnlyList<TensorEntry> expected, IReadOnlyList<TensorEntry> found, string path)
    {
        var problems = Problems(expected, found);
        if (problems.Count == 0) return;
        var listed = problems.Take(MaxListed).Select(p => "  " + p);
        var more = problems.Count > MaxListed ? $"{Environment.NewLine}  ... and {problems.Count - MaxListed} more" : "";
        throw new InvalidDataException(
            $"The weights file '{path}' does not fit the network ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):{Environment.NewLine}" +
            string.Join(Environment.NewLine, listed) + more);
    }

    /// <summary>One line per mismatch, in the network's tensor order, then the file's unexpected tensors.</summary>
    public static List<string> Problems(IReadOnlyList<TensorEntry> expected, IReadOnlyList<TensorEntry> found)
    {
        var inFile = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        foreach (var f in found) inFile[f.Name] = f;
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in expected)
        {
            names.Add(e.Name);
            if (!inFile.TryGetValue(e.Name, out var f))
                problems.Add($"missing tensor '{e.Name}' (expected {e.DType} {e.ShapeText})");
            else if (!f.Shape.SequenceEqual(e.Shape))
                problems.Add($"tensor '{e.Name}': expected shape {e.ShapeText}, found {f.ShapeText}");
            else if (f.DType != e.DType)
                problems.Add($"tensor '{e.Name}': expected dtype {e.DType}, found {f.DType}");
        }
        foreach (var f in found)
            if (!names.Contains(f.Name))
                problems.Add($"unexpected tensor '{f.Name}' ({f.DType} {f.ShapeText}) that the network does not have");
        return problems;
    }
}
