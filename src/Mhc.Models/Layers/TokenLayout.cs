using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>
/// Moves stream tensors between their natural layout (B, n, *features) and the per-token layout
/// (B, S, n, C) in which mHC's dynamic mappings are defined (one n x C state per token or pixel).
/// </summary>
internal readonly struct TokenLayout
{
    private readonly long[] toTokens;
    private readonly long[] fromTokens;
    private readonly long[] tokenGrid;   // (B, *spatial, n, C) before flattening the spatial axes
    private readonly long tokens;

    public TokenLayout(long[] streamShape, StreamFeatureLayout layout)
    {
        int d = streamShape.Length;
        long b = streamShape[0], n = streamShape[1];
        long[] spatial;
        long c;
        if (layout == StreamFeatureLayout.ChannelsLast)
        {
            // (B, n, *S, C) -> (B, *S, n, C)
            spatial = streamShape[2..(d - 1)];
            c = streamShape[d - 1];
            toTokens = [0, .. Enumerable.Range(2, d - 3).Select(i => (long)i), 1, d - 1];
        }
        else
        {
            // (B, n, C, *S) -> (B, *S, n, C)
            spatial = streamShape[3..];
            c = streamShape[2];
            toTokens = [0, .. Enumerable.Range(3, d - 3).Select(i => (long)i), 1, 2];
        }
        fromTokens = new long[d];
        for (int i = 0; i < d; i++) fromTokens[toTokens[i]] = i;
        tokens = spatial.Aggregate(1L, (a, s) => a * s);
        tokenGrid = [b, .. spatial, n, c];
    }

    /// <summary>(B, n, *features) to (B, S, n, C).</summary>
    public Tensor ToTokens(Tensor streams) =>
        streams.permute(toTokens).reshape(tokenGrid[0], tokens, tokenGrid[^2], tokenGrid[^1]);

    /// <summary>(B, S, n, C) back to (B, n, *features).</summary>
    public Tensor FromTokens(Tensor t) => t.reshape(tokenGrid).permute(fromTokens);

    /// <summary>A single-stream token tensor (B, S, 1, C) back to (B, *features).</summary>
    public Tensor SingleFromTokens(Tensor t)
    {
        var grid = (long[])tokenGrid.Clone();
        grid[^2] = 1;
        return t.reshape(grid).permute(fromTokens).squeeze(1);
    }

    /// <summary>A single-stream tensor (B, *features) to tokens (B, S, 1, C).</summary>
    public Tensor SingleToTokens(Tensor y) =>
        y.unsqueeze(1).permute(toTokens).reshape(tokenGrid[0], tokens, 1, tokenGrid[^1]);

    /// <summary>Per-token coefficients (B, S, n) as a tensor that broadcasts against the streams.</summary>
    public Tensor CoefficientsToStreams(Tensor coefficients)
    {
        var grid = (long[])tokenGrid.Clone();
        grid[^1] = 1;
        return coefficients.reshape(grid).permute(fromTokens);
    }
}
