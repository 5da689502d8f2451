using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using Mhc.Models.Weights;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// Fixtures for the PyTorch twin (<c>interop/pytorch/check.py</c>): for each network a small seeded Hyper-ResNet
/// (default options but for its size) or text decoder (token ids in, next-token logits out) saved with
/// <see cref="ModuleWeights.Save"/> as <c>NAME.pt</c>, its initial weights as <c>NAME.init.pt</c>, and <c>NAME.io.pt</c>
/// holding a fixed input batch (images or token ids) and the network's eval-mode logits. The weights are perturbed away
/// from their initialisation first (gates, biases, Phi, batch-norm statistics), so that every term of the mixing shows in
/// the logits: at init HC's Phi is zero and the gates are 0.01, and a twin that dropped the dynamic part would still match.
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

    /// <summary>
    /// The text decoders exported (file names <c>decoder-*</c>): small causal decoders with per-token mixing, as the
    /// ML.NET text-generation trainer builds them, for each connection kind and for mHC with static mixing and with tied
    /// embeddings and learned collapse. <c>interop/pytorch/check.py</c> builds the same list.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, HyperDecoderTransformerOptions Options)> Decoders =
    [
        ("decoder-residual", SmallDecoder(new MixingSettings { Connection = ConnectionKind.Residual })),
        ("decoder-hc", SmallDecoder(new MixingSettings { Connection = ConnectionKind.Hc })),
        ("decoder-mhc", SmallDecoder(new MixingSettings())),
        ("decoder-mhc-static", SmallDecoder(new MixingSettings { DynamicMixing = false })),
        ("decoder-mhc-tied", SmallDecoder(new MixingSettings(), tied: true)),
    ];

    /// <inheritdoc />
    public string Name => "interop-export";

    /// <inheritdoc />
    public string Description => "writes seeded Hyper-ResNet and text-decoder weights (.pt), an input batch and the C# logits for interop/pytorch/check.py (needs --out)";

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
            Export(run, dir, name, () => new HyperResNet(options), () => randn(4, 1, 28, 28));
        foreach (var (name, options) in Decoders)
            Export(run, dir, name, () => new HyperDecoderTransformer(options),
                () => randint(0, options.VocabSize, [3, options.ContextLength], dtype: ScalarType.Int64));
        run.Add("interop_export_models", Networks.Count + Decoders.Count);
    }

    /// <summary>Writes NAME.init.pt, NAME.pt and NAME.io.pt for one seeded network (see the class remarks).</summary>
    private static void Export(BenchmarkRun run, string dir, string name, Func<nn.Module<Tensor, Tensor>> create, Func<Tensor> makeInput)
    {
        using var scope = NewDisposeScope();
        manual_seed(1234);
        var net = create();
        // The initial state too, so that the twin's own initialisation of the mixing parameters can be checked.
        ModuleWeights.Save(net, Path.Combine(dir, $"{name}.init.pt"));
        Perturb(net);
        net.eval();
        var input = makeInput();
        Tensor logits;
        using (no_grad()) logits = net.forward(input);
        ModuleWeights.Save(net, Path.Combine(dir, $"{name}.pt"));
        using var io = new TensorBundle(input, logits);
        ModuleWeights.Save(io, Path.Combine(dir, $"{name}.io.pt"));
        run.Log($"{name}: {net.state_dict().Count} tensors, logits [{string.Join(", ", logits.shape)}] -> {dir}");
    }

    private static HyperResNetOptions Small(MixingSettings mixing, bool perPixel = false) => new()
    {
        BaseWidth = 16,
        StageDepths = [1, 1],
        Mixing = mixing,
        PerPixelMixing = perPixel,
    };

    private static HyperDecoderTransformerOptions SmallDecoder(MixingSettings mixing, bool tied = false) => new()
    {
        VocabSize = 41,
        ContextLength = 24,
        Transformer = new TransformerSettings { Dim = 32, Layers = 2, Heads = 4, MlpRatio = 2 },
        Mixing = mixing,
        Collapse = tied ? StreamCollapseMode.Learned : StreamCollapseMode.Mean,
        TieEmbeddings = tied,
    };

    private static void Perturb(nn.Module net)
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
