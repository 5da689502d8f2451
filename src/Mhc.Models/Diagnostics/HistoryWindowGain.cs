using Mhc.Models.Layers;

namespace Mhc.Models.Diagnostics;

/// <summary>
/// Gains of a history-window stack in the terms the mHC paper uses for streams (sec. 3.1, fig. 3). The skip-only part
/// of a layer maps the window of the last H states to the next window: every slot moves one place towards the old end,
/// and the new slot is g sum_k alpha_k of the window. That H x H matrix plays the role of H_res: its largest absolute
/// row sum is the forward gain, its largest absolute column sum the backward gain, and the products over layers give
/// the composite gains. The branches f_l and any auto-projections are left out, as the paper leaves out F.
/// </summary>
public static class HistoryWindowGain
{
    /// <summary>The window map of each layer of <paramref name="stack"/>, in depth order (H x H, slots oldest first).</summary>
    public static IReadOnlyList<float[,]> WindowMaps(HistoryWindowSkipStack stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        int h = stack.Skips.Count == 0 ? 1 : stack.Skips[0].Options.MaxHistory;
        return stack.Skips.Select(s => WindowMap(s.Weights(), s.Gate, h)).ToList();
    }

    /// <summary>
    /// The window map of one layer: rows 0..H-2 shift the window (slot i takes slot i + 1); row H-1 holds g alpha on
    /// the last k slots (a layer that has seen only k &lt; H states yet mixes the newest k).
    /// </summary>
    /// <param name="alpha">The layer's k weights, oldest first.</param>
    /// <param name="gate">The gate g.</param>
    /// <param name="maxHistory">H.</param>
    public static float[,] WindowMap(IReadOnlyList<float> alpha, double gate, int maxHistory)
    {
        ArgumentNullException.ThrowIfNull(alpha);
        if (maxHistory < 1) throw new ArgumentOutOfRangeException(nameof(maxHistory), maxHistory, "H must be at least 1.");
        if (alpha.Count < 1 || alpha.Count > maxHistory)
            throw new ArgumentException($"A layer mixes between 1 and H = {maxHistory} states; got {alpha.Count} weights.", nameof(alpha));
        var m = new float[maxHistory, maxHistory];
        for (int i = 0; i < maxHistory - 1; i++) m[i, i + 1] = 1;
        int first = maxHistory - alpha.Count;
        for (int j = 0; j < alpha.Count; j++) m[maxHistory - 1, first + j] = (float)(gate * alpha[j]);
        return m;
    }

    /// <summary>Per-layer and composite gains of <paramref name="stack"/>'s window maps.</summary>
    public static GainProfile Profile(HistoryWindowSkipStack stack) => GainProfile.From(WindowMaps(stack));
}
