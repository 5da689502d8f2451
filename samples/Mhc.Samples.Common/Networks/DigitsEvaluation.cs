using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Samples.Networks;

/// <summary>Held-out loss and accuracy of a classifier on flat digits.</summary>
public static class DigitsEvaluation
{
    /// <summary>Mean cross-entropy and accuracy of <paramref name="model"/> on (<paramref name="x"/>, <paramref name="y"/>),
    /// in eval mode and batches of <paramref name="batchSize"/>; the model's training flag is restored.</summary>
    public static (double Loss, double Accuracy) Evaluate(Module<Tensor, Tensor> model, Tensor x, Tensor y, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double lossSum = 0, correct = 0;
            long n = x.shape[0];
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, n - start);
                var logits = model.forward(x.narrow(0, start, len));
                var target = y.narrow(0, start, len);
                lossSum += functional.cross_entropy(logits, target, reduction: Reduction.Sum).ToDouble();
                correct += logits.argmax(1).eq(target).sum().ToDouble();
            }
            return (lossSum / n, correct / n);
        }
        finally
        {
            model.train(training);
        }
    }
}
