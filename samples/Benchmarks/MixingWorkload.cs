using Mhc.Models.Layers;
using Mhc.Models.Native;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using Microsoft.ML.Mhc.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Benchmarks;

/// <summary>
/// One network of the mixing benchmark with its AdamW optimizer and one fixed batch of real data: a training
/// step is forward, cross-entropy, backward and the optimizer update, as the training loops run it.
/// </summary>
public sealed class MixingWorkload : IDisposable
{
    private readonly Module<Tensor, Tensor> network;
    private readonly AdamW optimizer;
    private readonly Tensor input;
    private readonly Tensor target;

    private MixingWorkload(string name, ConnectionKind kind, Module<Tensor, Tensor> network, Tensor input, Tensor target)
    {
        Name = name;
        Kind = kind;
        this.network = network;
        this.input = input;
        this.target = target;
        network.train();
        optimizer = OptimizerFactory.AdamW(network, 1e-3, 0.05);
    }

    /// <summary>Network name: resnet, decoder or mlp.</summary>
    public string Name { get; }

    /// <summary>The connection around every block.</summary>
    public ConnectionKind Kind { get; }

    /// <summary>The network.</summary>
    public Module<Tensor, Tensor> Network => network;

    /// <summary>(a) The main job's Hyper-ResNet on a batch of MNIST digits (per-sample dynamic mixing, its default).</summary>
    public static MixingWorkload Resnet(ConnectionKind kind, MixingSizes sizes, MixingData data)
    {
        manual_seed(1);
        var net = new HyperResNet(new HyperResNetOptions
        {
            BaseWidth = 16,
            StageDepths = sizes.ResnetDepths,
            Mixing = new() { Connection = kind, ExpansionRate = 4 },
        });
        var (x, y) = data.Digits(sizes.ResnetBatch, image: true);
        return new MixingWorkload("resnet", kind, net, x, y);
    }

    /// <summary>(b) The text sample's decoder on windows of Jane Austen (next-character targets).</summary>
    public static MixingWorkload Decoder(ConnectionKind kind, MixingSizes sizes, MixingData data)
    {
        manual_seed(1);
        var net = new HyperDecoderTransformer(DecoderOptions(kind, sizes, data.VocabularySize));
        var (x, y) = data.Windows(sizes.DecoderBatch, sizes.DecoderContext);
        return new MixingWorkload("decoder", kind, net, x, y);
    }

    /// <summary>The decoder configuration of (b) and of the generation figure (d).</summary>
    public static HyperDecoderTransformerOptions DecoderOptions(ConnectionKind kind, MixingSizes sizes, int vocabulary) => new()
    {
        VocabSize = vocabulary,
        ContextLength = sizes.DecoderContext,
        Transformer = new() { Dim = sizes.DecoderDim, Layers = sizes.DecoderLayers, Heads = 4, MlpRatio = 4, Dropout = 0 },
        Mixing = new() { ExpansionRate = 4, Connection = kind },
    };

    /// <summary>(c) A deep pre-norm MLP stack (LayerNorm, Linear w-2w, GELU, Linear 2w-w per block) on MNIST pixels.</summary>
    public static MixingWorkload Mlp(ConnectionKind kind, MixingSizes sizes, MixingData data)
    {
        manual_seed(1);
        int w = sizes.MlpWidth;
        var branches = Enumerable.Range(0, sizes.MlpDepth)
            .Select(i => (Module<Tensor, Tensor>)Sequential(
                ("norm", LayerNorm(w)), ("fc1", Linear(w, 2 * w)), ("act", GELU()), ("fc2", Linear(2 * w, w))))
            .ToList();
        var body = HyperSequential.FromBranches("body", branches, new HyperConnectionOptions
        {
            Dim = w,
            Mixing = new() { Connection = kind, ExpansionRate = kind == ConnectionKind.Residual ? 1 : 4 },
        });
        var net = Sequential(("embed", Linear(28 * 28, w)), ("body", body), ("norm", LayerNorm(w)), ("head", Linear(w, 10)));
        var (x, y) = data.Digits(sizes.MlpBatch, image: false);
        return new MixingWorkload("mlp", kind, net, x, y);
    }

    /// <summary>One training step.</summary>
    public void Step() => Step(null);

    /// <summary>One training step; with a profiler, its optimizer time and backward start are recorded.</summary>
    public StepTimes Step(MixingProfiler? profiler)
    {
        using var scope = NewDisposeScope();
        using var step = NativeStep.Training();
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        optimizer.zero_grad();
        var logits = network.forward(input);
        var loss = functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), target.reshape(-1));
        long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        profiler?.BeginBackward();
        loss.backward();
        profiler?.EndBackward();
        long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
        optimizer.step();
        long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
        return new StepTimes(Ms(t1 - t0), Ms(t2 - t1), Ms(t3 - t2));
    }

    private static double Ms(long ticks) => ticks * 1000.0 / System.Diagnostics.Stopwatch.Frequency;

    /// <inheritdoc />
    public void Dispose()
    {
        optimizer.Dispose();
        network.Dispose();
        input.Dispose();
        target.Dispose();
    }
}

/// <summary>Milliseconds of the three phases of one training step.</summary>
public readonly record struct StepTimes(double Forward, double Backward, double Optimizer);
