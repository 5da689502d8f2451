namespace Mhc.Models.Diagnostics;

/// <summary>
/// Gain measures of stream-mixing matrices used by the mHC paper (sec. 3.1, fig. 3): the forward
/// gain of H is its largest absolute row sum (how much a signal can grow going forward), the
/// backward gain its largest absolute column sum (the same for gradients). A doubly stochastic
/// matrix has both equal to 1, and so has any product of them, which is mHC's stability argument.
/// </summary>
public static class MixingGain
{
    /// <summary>Largest absolute row sum.</summary>
    public static double Forward(float[,] h) => Enumerable.Range(0, h.GetLength(0))
        .Max(i => Enumerable.Range(0, h.GetLength(1)).Sum(j => Math.Abs((double)h[i, j])));

    /// <summary>Largest absolute column sum.</summary>
    public static double Backward(float[,] h) => Enumerable.Range(0, h.GetLength(1))
        .Max(j => Enumerable.Range(0, h.GetLength(0)).Sum(i => Math.Abs((double)h[i, j])));

    /// <summary>Smallest column sum (signed): how much a stream can be drained.</summary>
    public static double MinColumnSum(float[,] h) => Enumerable.Range(0, h.GetLength(1))
        .Min(j => Enumerable.Range(0, h.GetLength(0)).Sum(i => (double)h[i, j]));

    /// <summary>Frobenius distance from the identity.</summary>
    public static double DistanceFromIdentity(float[,] h)
    {
        double sum = 0;
        for (int i = 0; i < h.GetLength(0); i++)
            for (int j = 0; j < h.GetLength(1); j++)
            {
                double d = h[i, j] - (i == j ? 1.0 : 0.0);
                sum += d * d;
            }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// The composite mapping of a stack, H_L ... H_2 H_1 (layer 1 applied first), computed in double to
    /// avoid overflow in the report itself.
    /// </summary>
    public static double[,] Composite(IEnumerable<float[,]> layersInOrder)
    {
        double[,]? acc = null;
        foreach (var h in layersInOrder)
        {
            int n = h.GetLength(0);
            if (acc is null)
            {
                acc = new double[n, n];
                for (int i = 0; i < n; i++) acc[i, i] = 1;
            }
            var next = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++) s += h[i, k] * acc[k, j];
                    next[i, j] = s;
                }
            acc = next;
        }
        return acc ?? new double[0, 0];
    }

    /// <summary>Largest absolute row sum of a double matrix.</summary>
    public static double Forward(double[,] h) => h.Length == 0 ? 1 : Enumerable.Range(0, h.GetLength(0))
        .Max(i => Enumerable.Range(0, h.GetLength(1)).Sum(j => Math.Abs(h[i, j])));

    /// <summary>Largest absolute column sum of a double matrix.</summary>
    public static double Backward(double[,] h) => h.Length == 0 ? 1 : Enumerable.Range(0, h.GetLength(1))
        .Max(j => Enumerable.Range(0, h.GetLength(0)).Sum(i => Math.Abs(h[i, j])));
}
