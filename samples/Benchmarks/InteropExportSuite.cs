using Mhc.Models.Layers;
using Mhc.Models.Vision;
using Mhc.Models.Weights;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// Fixtures for the PyTorch twin (<c>interop/pytorch/check.py</c>): for each network a small seeded Hyper-ResNet
/// (default options but for its size) saved with <see cref="ModuleWeights.Save"/> as <c>NAME.pt</c>, its initial
/// weights as <c>NAME.init.pt</c>, and <c>NAME.io.pt</c> holding a fixed input batch and the network's eval-mode logits. The weights are perturbed away from
/// their initialisation first (gates, biases, Phi, batch-norm statistics), so that every term of the mixing shows in the
/// logits: at init HC's Phi is zero and the gates are 0.01, and a twin that dropped the dynamic part would still match.
/// </summary>
public sealed class InteropExportSuite : IBenchmarkSuite
{
    /// <summary>
    /// The networks exported, by file name: the defaults (mHC's n = 4, per-sample dynamic mixing, 20 exp-first Sinkhorn
    /// rounds) at a small size for each connection kind, and mHC with static mixing and with per-pixel mixing.
    /// <c>interop/pytorch/check.py</c> builds the same list.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, HyperResNetOptions Options)> Networks =
    [
        ("residual", Small(new MixingSettings { Connection = ConnectionKind.Residual })),
        ("hc", Small(new MixingSettings { Connection = ConnectionKind.Hc })),
        ("mhc", Small(new MixingSettings())),
        ("mhc-static", Small(new MixingSettings { DynamicMixing = false })),
        ("mhc-pixel", Small(new MixingSettings(), perPixel: true)),
    ];

    /// <inheritdoc />
    public string Name => "interop-export";

    /// <inheritdoc />
    public string Description => "writes seeded Hyper-ResNet weights (.pt), an input batch and the C# logits for interop/pytorch/check.py (needs --out)";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        // Skipped rather than failed without --out, so that a run of all suites (the default) still completes.
        if (run.OutDirectory is not { } dir)
        {
            run.Log("interop-export: skipped (no --out DIR for the fixtures)");
            return;
        }
        Directory.CreateDirectory(dir);
        foreach (var (name, options) in Networks)
        {
            using var scope = NewDisposeScope();
            manual_seed(1234);
            var net = new HyperResNet(options);
            // The initial state too, so that the twin's own initialisation of the mixing parameters can be checked.
            ModuleWeights.Save(net, Path.Combine(dir, $"{name}.init.pt"));
            Perturb(net);
            net.eval();
            var input = randn(4, 1, 28, 28);
            Tensor logits;
            using (no_grad()) logits = net.forward(input);
            ModuleWeights.Save(net, Path.Combine(dir, $"{name}.pt"));
            using var io = new TensorBundle(input, logits);
            ModuleWeights.Save(io, Path.Combine(dir, $"{name}.io.pt"));
            run.Log($"{name}: {net.state_dict().Count} tensors, logits [{string.Join(", ", logits.shape)}] -> {dir}");
        }
        run.Add("interop_export_models", Networks.Count);
    }

    private static HyperResNetOptions Small(MixingSettings mixing, bool perPixel = false) => new()
    {
        BaseWidth = 16,
        StageDepths = [1, 1],
        Mixing = mixing,
        PerPixelMixing = perPixel,
    };

    private static void Perturb(HyperResNet net)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in net.named_parameters())
        {
            // Gates of 0.5 make the dynamic part about as large as the biases (at 0.01 it is lost in them).
            if (name.EndsWith(".gates", StringComparison.Ordinal)) p.copy_(0.5f + 0.1f * rand(p.shape));
            // H_res logits spread enough that the bound L tanh(h / L) and Sinkhorn's balancing both show.
            else if (name.EndsWith(".bias_res", StringComparison.Ordinal)) p.add_(randn(p.shape));
            else p.add_(0.1f * randn(p.shape));
        }
        foreach (var (name, b) in net.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal)) b.copy_(0.1f * randn(b.shape));
            else if (name.EndsWith("running_var", StringComparison.Ordinal)) b.copy_(0.5f + rand(b.shape));
        }
    }

    /// <summary>Named tensors saved as a state_dict, which <c>torch.load</c> reads as a dict without extra packages.</summary>
    private sealed class TensorBundle : nn.Module
    {
        public TensorBundle(Tensor input, Tensor logits) : base("io")
        {
            register_buffer("input", input.detach().clone());
            register_buffer("logits", logits.detach().clone());
        }
    }
}
