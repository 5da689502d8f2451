using System.Runtime.InteropServices;
using Mhc.Models.Layers;
using Mhc.Models.Vision;
using Mhc.Samples.Data;
using Mhc.Samples.Networks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Benchmarks;

/// <summary>
/// What block checkpointing saves on the main job's network (Hyper-ResNet, base width 16, stages [1, 1, 1], n = 4 mHC
/// streams, 28 x 28 digits, batch 64), on a deeper one ([4, 4, 4]) and on the depth study's 64-block history-window MLP:
/// native memory held by the autograd graph after the forward pass, the peak during forward + backward, and the step
/// time, without and with every block checkpointed. The checkpointed Hyper-ResNet is a wrapper that runs the same
/// <see cref="HyperResNet"/>'s modules with <see cref="BlockCheckpoint"/> around each block; every pair is first checked
/// to give the same gradients.
/// </summary>
public sealed class CheckpointMemorySuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "checkpoint-memory";

    /// <inheritdoc />
    public string Description => "activation memory and step time of the main job's Hyper-ResNet with and without block checkpointing";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        int batch = run.Quick ? 8 : 64;
        foreach (var (prefix, stages) in run.Quick ? new[] { ("checkpoint", new[] { 1, 1, 1 }) } : [("checkpoint", [1, 1, 1]), ("checkpoint_deep", [4, 4, 4])])
        {
            // The main job's network has three blocks of falling size, the worst case for checkpointing (the first
            // block's recomputation dominates the peak); four blocks per stage show how it scales with depth.
            var options = new HyperResNetOptions { BaseWidth = 16, StageDepths = stages, Mixing = new() { ExpansionRate = 4, Connection = ConnectionKind.Mhc }};
            torch.random.manual_seed(1);
            using var resnet = new HyperResNet(options);
            using var checkpointed = new CheckpointedResNet(resnet);
            using var images = randn(batch, 1, 28, 28);
            resnet.train();
            Measure(run, prefix, $"Hyper-ResNet width 16, stages [{string.Join(", ", stages)}], n = 4, batch {batch}", resnet, checkpointed, images, run.Quick);
        }
        if (run.Quick) return;
        // A deep stack whose blocks' intermediates (LayerNorm, 2w hidden, GELU) are several times their output: the
        // history-window MLP of the depth study, 64 blocks, with HistoryWindowSkipOptions.CheckpointBlocks.
        var plainMlp = HistoryMlp(checkpoint: false);
        var checkpointedMlp = HistoryMlp(checkpoint: true);
        using var pixels = randn(256, MnistDigits.PixelCount);
        Measure(run, "checkpoint_history_mlp", "history-window MLP (DepthStudy), 64 blocks, width 64, H = 4, batch 256", plainMlp, checkpointedMlp, pixels, quick: false);
    }

    private static DeepStack HistoryMlp(bool checkpoint) =>
        new(DeepStackConnection.Skip("history", new HistoryWindowSkipOptions { CheckpointBlocks = checkpoint }), 64, 64, 1, MnistDigits.PixelCount, MnistDigits.ClassCount);

    private static void Measure(BenchmarkRun run, string prefix, string what, Module<Tensor, Tensor> plain, Module<Tensor, Tensor> checkpointed, Tensor images, bool quick)
    {
        int repeats = quick ? 2 : 7;
        using var labels = randint(0, 10, [images.shape[0]]);
        run.Log($"{what}:");

        double difference = MaxGradientDifference(plain, checkpointed, images, labels);
        run.Log($"  checkpointed vs plain: largest gradient difference {difference:G3}");
        if (difference > 1e-4) throw new InvalidOperationException($"The checkpointed wrapper's gradients differ from HyperResNet's by {difference}.");

        var measured = new Dictionary<string, List<(double Retained, double Peak)>> { ["plain"] = [], ["checkpointed"] = [] };
        Step(plain, images, labels);
        Step(checkpointed, images, labels);
        for (int r = 0; r < repeats; r++)
            foreach (var (name, model) in r % 2 == 0 ? new[] { ("plain", plain), ("checkpointed", checkpointed) } : [("checkpointed", checkpointed), ("plain", plain)])
                measured[name].Add(Measure(model, images, labels));
        var times = InterleavedTimer.MedianMilliseconds(
            [("plain", () => Step(plain, images, labels)), ("checkpointed", () => Step(checkpointed, images, labels))], warmup: 1, repeats: repeats);

        double Mb(IEnumerable<double> bytes) => InterleavedTimer.Median(bytes.ToList()) / (1 << 20);
        double plainRetained = Mb(measured["plain"].Select(m => m.Retained)), ckptRetained = Mb(measured["checkpointed"].Select(m => m.Retained));
        double plainPeak = Mb(measured["plain"].Select(m => m.Peak)), ckptPeak = Mb(measured["checkpointed"].Select(m => m.Peak));
        run.Log($"  held by the graph after forward: plain {plainRetained:F1} MB, checkpointed {ckptRetained:F1} MB (saves {plainRetained - ckptRetained:F1} MB)");
        run.Log($"  peak over forward + backward:   plain {plainPeak:F1} MB, checkpointed {ckptPeak:F1} MB (saves {plainPeak - ckptPeak:F1} MB)");
        run.Log($"  forward + backward: plain {times["plain"]:F1} ms, checkpointed {times["checkpointed"]:F1} ms ({times["checkpointed"] / times["plain"]:F2}x)");
        run.Add($"{prefix}_network", what);
        run.Add($"{prefix}_plain_retained_mb", plainRetained);
        run.Add($"{prefix}_retained_mb", ckptRetained);
        run.Add($"{prefix}_saved_retained_mb", plainRetained - ckptRetained);
        run.Add($"{prefix}_plain_peak_mb", plainPeak);
        run.Add($"{prefix}_peak_mb", ckptPeak);
        run.Add($"{prefix}_saved_peak_mb", plainPeak - ckptPeak);
        run.Add($"{prefix}_plain_step_ms", times["plain"]);
        run.Add($"{prefix}_step_ms", times["checkpointed"]);
        run.Add($"{prefix}_max_gradient_difference", difference);
    }

    private static void Step(Module<Tensor, Tensor> model, Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        foreach (var p in model.parameters()) p.grad = null;
        functional.cross_entropy(model.forward(images), labels).backward();
    }

    // Native bytes in use (glibc's mallinfo2: libtorch's CPU allocator is malloc) before the forward pass, after it
    // (what the graph holds for backward) and at the highest point sampled during forward and backward.
    private static (double Retained, double Peak) Measure(Module<Tensor, Tensor> model, Tensor images, Tensor labels)
    {
        foreach (var p in model.parameters()) p.grad = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = InUse();
        long peak = before;
        bool stop = false;
        var sampler = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                long now = InUse();
                if (now > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, now);
                Thread.SpinWait(50);
            }
        }) { IsBackground = true };
        long afterForward;
        using (var scope = NewDisposeScope())
        {
            sampler.Start();
            var loss = functional.cross_entropy(model.forward(images), labels);
            afterForward = InUse();
            loss.backward();
            Volatile.Write(ref stop, true);
            sampler.Join();
        }
        long top = Math.Max(Interlocked.Read(ref peak), afterForward);
        return (afterForward - before, top - before);
    }

    // Both start from the same state (batch-norm statistics change in every training forward pass); the parameters of
    // both networks are listed in the same order (the wrapper owns the plain network, or both were built from one seed).
    private static double MaxGradientDifference(Module<Tensor, Tensor> plain, Module<Tensor, Tensor> checkpointed, Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var state = plain.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        Step(plain, images, labels);
        var reference = plain.parameters().Select(p => p.grad!.clone()).ToList();
        plain.load_state_dict(state);
        Step(checkpointed, images, labels);
        var grads = checkpointed.parameters().Select(p => p.grad!).ToList();
        plain.load_state_dict(state);
        if (reference.Count != grads.Count) throw new InvalidOperationException($"{reference.Count} parameters against {grads.Count}.");
        return reference.Zip(grads, (a, b) => (a - b).abs().max().ToDouble()).Max();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo();

    private static long InUse()
    {
        var m = MallInfo();
        return (long)(m.Uordblks + m.Hblkhd);
    }

    /// <summary>The Hyper-ResNet's own modules with each hyper-connected block run under <see cref="BlockCheckpoint"/>.</summary>
    private sealed class CheckpointedResNet : Module<Tensor, Tensor>
    {
        private readonly HyperResNet resnet;

        public CheckpointedResNet(HyperResNet resnet) : base("checkpointed_resnet")
        {
            this.resnet = resnet;
            RegisterComponents();
        }

        private Module<Tensor, Tensor> Child(string name) =>
            (Module<Tensor, Tensor>)resnet.named_children().Single(c => c.name == name).module;

        // HyperResNet.forward: stem, the blocks trunk (expand, blocks, collapse), relu(head_bn), global average pool, dropout, classifier.
        public override Tensor forward(Tensor images)
        {
            var trunk = (HyperSequential)Child("blocks");
            var streams = trunk.Expand.forward(Child("stem").forward(images));
            foreach (var block in resnet.HyperConnections)
                streams = BlockCheckpoint.Apply(xs => block.forward(xs[0]), [streams]);
            var h = functional.relu(Child("head_bn").forward(trunk.Collapse.forward(streams)));
            var pooled = functional.adaptive_avg_pool2d(h, 1).flatten(1);
            return Child("classifier").forward(Child("dropout").forward(pooled));
        }
    }
}
