using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>Runs an exported classifier in-process with ONNX Runtime: logits and probabilities of a batch of flat rows.</summary>
internal static class OnnxScoring
{
    public static (float[] Logits, float[] Probabilities) Run(byte[] model, float[] rows, int batch)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var input = OrtValue.CreateTensorValueFromMemory(rows, [batch, rows.Length / batch]);
        using var run = new RunOptions();
        using var outputs = session.Run(run, ["features"], [input], ["logits", "probabilities"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
