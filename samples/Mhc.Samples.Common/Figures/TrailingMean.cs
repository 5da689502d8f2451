namespace Mhc.Samples.Figures;

/// <summary>Smoothing for plotted training curves: the mean of each value and the ones before it.</summary>
public static class TrailingMean
{
    /// <summary>
    /// The mean of the last <paramref name="window"/> values at every position (of fewer at the start, so the curve
    /// starts at the first value rather than ramping up from zero).
    /// </summary>
    public static double[] Of(double[] values, int window)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
