using Mhc.Models.Native;
using Mhc.Models.Transformers;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// Negative log-likelihood of a token sequence under a decoder, with overlapping windows: the first
/// window predicts its every position, each later one (shifted by half the context) only the positions
/// not predicted yet, so every token is predicted once with at least half a context of history.
/// </summary>
internal static class DecoderScorer
{
    /// <summary>Windows scored per forward pass.</summary>
    private const int WindowsPerPass = 16;

    /// <summary>
    /// Summed NLL (nats) of tokens <paramref name="firstTarget"/>..end of <paramref name="ids"/>, each
    /// conditioned on what precedes it, and how many tokens that is. <paramref name="firstTarget"/> is at least 1.
    /// </summary>
    public static (double Nats, long Tokens) NegativeLogLikelihood(HyperDecoderTransformer network, IReadOnlyList<int> ids, int firstTarget, Device device, object gate)
    {
        firstTarget = Math.Max(1, firstTarget);
        int n = ids.Count;
        if (n <= firstTarget) return (0, 0);
        int context = network.Options.ContextLength;
        int stride = Math.Max(1, context / 2);
        // Window k covers inputs [start, start + length) and predicts targets start+1 .. start+length;
        // the first `skip` of them were predicted by an earlier window (or precede firstTarget).
        var windows = new List<(int Start, int Length, int Skip)>();
        int covered = firstTarget - 1;   // last target index already accounted for
        for (int start = 0; covered < n - 1; start += stride)
        {
            int s = Math.Min(start, Math.Max(0, n - 1 - context));
            int length = Math.Min(context, n - 1 - s);
            int skip = covered - s;
            windows.Add((s, length, Math.Max(0, skip)));
            covered = s + length;
            if (s + length >= n - 1) break;
        }
        double nats = 0;
        long tokens = 0;
        foreach (var group in windows.GroupBy(w => w.Length))
        {
            var list = group.ToList();
            for (int at = 0; at < list.Count; at += WindowsPerPass)
            {
                var chunk = list.GetRange(at, Math.Min(WindowsPerPass, list.Count - at));
                int length = group.Key;
                var inputs = new long[chunk.Count * length];
                var targets = new long[chunk.Count * length];
                var mask = new float[chunk.Count * length];
                for (int w = 0; w < chunk.Count; w++)
                {
                    var (start, _, skip) = chunk[w];
                    for (int t = 0; t < length; t++)
                    {
                        inputs[w * length + t] = ids[start + t];
                        targets[w * length + t] = ids[start + t + 1];
                        if (t >= skip) mask[w * length + t] = 1;
                    }
                }
                using var scope = NewDisposeScope();
                using var step = NativeStep.NoGrad();
                var x = tensor(inputs, dtype: ScalarType.Int64, device: device).reshape(chunk.Count, length);
                var y = tensor(targets, dtype: ScalarType.Int64, device: device).reshape(chunk.Count, length, 1);
                var m = tensor(mask, device: device).reshape(chunk.Count, length);
                Tensor logits;
                lock (gate) logits = network.forward(x);
                var logp = nn.functional.log_softmax(logits.to_type(ScalarType.Float32), -1).gather(-1, y).squeeze(-1);
                nats -= (logp * m).sum().to(CPU).item<float>();
                tokens += (long)mask.Sum();
            }
        }
        return (nats, tokens);
    }
}
