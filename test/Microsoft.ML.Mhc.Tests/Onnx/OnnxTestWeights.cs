using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests.Onnx;

/// <summary>
/// Moves a network's weights far from their initialisation, so that an exported graph is compared on weights that
/// make every part of the network matter: the mixing parameters (biases, gates, Phi, skip logits) and batch-norm
/// statistics get large offsets, so that dynamic mixing depends on the input and no mixture is uniform; matrices
/// keep their init's scale times <c>matrixScale</c> (transformers start at std 0.02, which leaves logits within
/// +-0.2 and attention near uniform; a scale of 5-8 gives logits of order 1 and peaked attention).
/// </summary>
internal static class OnnxTestWeights
{
    public static void Perturb(nn.Module network, int seed, double matrixScale = 1)
    {
        random.manual_seed(seed);
        using (no_grad())
        {
            foreach (var (name, p) in network.named_parameters())
            {
                bool skipLogits = name.EndsWith("mix_logits", StringComparison.Ordinal);
                bool additive = p.dim() < 2 || skipLogits || name.EndsWith("phi", StringComparison.Ordinal);
                double offset = skipLogits ? 1.0 : name.EndsWith("gates", StringComparison.Ordinal) ? 0.5 : 0.3;
                if (additive) p.add_(randn_like(p) * offset);
                else p.mul_((randn_like(p) * 0.2 + 1) * matrixScale);
            }
            foreach (var (name, b) in network.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) b.copy_(randn_like(b) * 0.2);
                else if (name.EndsWith("running_var", StringComparison.Ordinal)) b.copy_(rand_like(b) + 0.5);
            }
        }
        network.eval();
    }
}
