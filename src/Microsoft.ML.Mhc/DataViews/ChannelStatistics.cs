namespace Microsoft.ML.Mhc.DataViews;

/// <summary>Per-channel mean and standard deviation of rows of C x H x W values, for a network's input standardisation.</summary>
internal static class ChannelStatistics
{
    /// <summary>Mean and standard deviation of every channel over the first <paramref name="count"/> rows (computed in double).</summary>
    public static (float[] Mean, float[] Std) Compute(float[] features, int count, int channels, int plane)
    {
        int length = channels * plane;
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int i = 0; i < count; i++)
                foreach (var v in features.AsSpan(i * length + c * plane, plane))
                {
                    sum += v;
                    squares += (double)v * v;
                }
            double n = (double)count * plane, m = sum / n, variance = Math.Max(0, squares / n - m * m);
            mean[c] = (float)m;
            // A constant channel would divide by zero; leave it unscaled instead.
            std[c] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }
        return (mean, std);
    }
}
