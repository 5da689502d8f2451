using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>Runs an exported model in-process with ONNX Runtime (one thread, default graph optimisation).</summary>
internal static class OnnxScoring
{
    /// <summary>Logits and probabilities of a classifier for a batch of flat rows.</summary>
    public static (float[] Logits, float[] Probabilities) Run(byte[] model, float[] rows, int batch)
    {
        using var outputs = Run(model, [("features", Tensor(rows, [batch, rows.Length / batch]))], ["logits", "probabilities"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    /// <summary>The named outputs for the named inputs (disposed here).</summary>
    public static IDisposableReadOnlyCollection<OrtValue> Run(byte[] model, IReadOnlyList<(string Name, OrtValue Value)> inputs, string[] outputs)
    {
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            using var session = new InferenceSession(model, options);
            using var run = new RunOptions();
            return session.Run(run, inputs.Select(i => i.Name).ToArray(), inputs.Select(i => i.Value).ToArray(), outputs);
        }
        finally
        {
            foreach (var (_, value) in inputs) value.Dispose();
        }
    }

    public static OrtValue Tensor(float[] data, long[] shape) => OrtValue.CreateTensorValueFromMemory(data, shape);

    public static OrtValue Tensor(long[] data, long[] shape) => OrtValue.CreateTensorValueFromMemory(data, shape);

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
