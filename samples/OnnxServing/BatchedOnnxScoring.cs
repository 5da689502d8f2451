using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace OnnxServingSample;

/// <summary>
/// The same model scored straight through an ONNX Runtime session in batches, for the speed comparison with the
/// TorchSharp transformer (which scores in batches; ApplyOnnxModel runs the session once per row). Small batches on
/// one thread: the n streams of a batch of 256 digits no longer fit in the caches, and the per-node work is too
/// small to share between threads (Benchmarks, suite onnx-scoring: 32 rows on one thread about twice as fast as 256 on
/// the default session here).
/// </summary>
public static class BatchedOnnxScoring
{
    /// <summary>Rows per second scoring <paramref name="rows"/> (each <paramref name="width"/> floats) in batches of <paramref name="batch"/>.</summary>
    public static double RowsPerSecond(string onnxPath, string input, string output, IReadOnlyList<float[]> rows, int width, int batch = 32)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnxPath, options);
        using var runOptions = new RunOptions();
        double Pass()
        {
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < rows.Count; start += batch)
            {
                int count = Math.Min(batch, rows.Count - start);
                var data = new float[count * width];
                for (int i = 0; i < count; i++) rows[start + i].CopyTo(data, i * width);
                using var tensor = OrtValue.CreateTensorValueFromMemory(data, [count, width]);
                using var outputs = session.Run(runOptions, [input], [tensor], [output]);
            }
            return rows.Count / clock.Elapsed.TotalSeconds;
        }
        Pass();   // warm-up
        return Pass();
    }
}
