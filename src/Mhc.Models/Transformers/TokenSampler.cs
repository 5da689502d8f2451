namespace Mhc.Models.Transformers;

/// <summary>
/// Picks the next token from logits with temperature, top-k and nucleus (top-p) filtering. Runs on the
/// host with a caller-supplied <see cref="Random"/>, so a seeded generation is reproducible whatever
/// libtorch's own random state is.
/// </summary>
public sealed class TokenSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="temperature">Divides the logits; below 1 sharpens, above 1 flattens. Must be positive.</param>
    /// <param name="topK">Keep only the k most likely tokens (0: all).</param>
    /// <param name="topP">Keep the smallest set of most likely tokens whose probability reaches p (1: all).</param>
    public TokenSampler(double temperature = 1.0, int topK = 0, double topP = 1.0)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be a positive finite number (use TopK = 1 for greedy decoding).");
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "TopK must be 0 (off) or positive.");
        if (!(topP > 0 && topP <= 1)) throw new ArgumentOutOfRangeException(nameof(topP), topP, "TopP must be in (0, 1].");
        Temperature = temperature;
        TopK = topK;
        TopP = topP;
    }

    /// <summary>The temperature.</summary>
    public double Temperature { get; }

    /// <summary>The top-k cut (0: off).</summary>
    public int TopK { get; }

    /// <summary>The nucleus mass (1: off).</summary>
    public double TopP { get; }

    /// <summary>Samples one token id from <paramref name="logits"/> (one entry per vocabulary id).</summary>
    public int Sample(ReadOnlySpan<float> logits, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (logits.Length == 0) throw new ArgumentException("No logits to sample from.", nameof(logits));
        int v = logits.Length;
        var order = new int[v];
        var scaled = new double[v];
        for (int i = 0; i < v; i++)
        {
            order[i] = i;
            scaled[i] = logits[i] / Temperature;
        }
        // Descending by logit, ties by id, so the order (and the draw) is deterministic.
        Array.Sort(order, (a, b) => scaled[b] != scaled[a] ? scaled[b].CompareTo(scaled[a]) : a.CompareTo(b));
        int keep = TopK > 0 ? Math.Min(TopK, v) : v;
        double max = scaled[order[0]];
        var probs = new double[keep];
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[i] = Math.Exp(scaled[order[i]] - max);
        if (TopP < 1)
        {
            double mass = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++)
            {
                mass += probs[i] / total;
                if (mass >= TopP) { cut = i + 1; break; }
            }
            keep = cut;
            total = 0;
            for (int i = 0; i < keep; i++) total += probs[i];
        }
        double r = random.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            r -= probs[i];
            if (r < 0) return order[i];
        }
        return order[keep - 1];
    }
}
