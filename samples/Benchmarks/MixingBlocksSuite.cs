using Mhc.Models.Layers;
using Mhc.Models.Native;
using Mhc.Models.Vision;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Benchmarks;

/// <summary>
/// The main job's Hyper-ResNet (<see cref="MixingWorkload.Resnet"/>) timed whole and taken apart, residual against mHC,
/// one thread: the training step, each hyper-connected block on its own (forward and backward), a stage transition's
/// shortcut on one stream image per sample and on n, and the stream expansion with its collapse. Every figure is the
/// fastest of interleaved calls in the stepping thread's CPU time: on a shared machine the fastest call is the least
/// disturbed one, which is what comparing two builds of a kernel needs (medians moved by +-0.05 in ratio from run to run
/// here, the fastest calls by about +-0.02). It says which part an mHC step's extra time is in, which the whole-step
/// profile of <see cref="MixingSuite"/> cannot.
/// </summary>
public sealed class MixingBlocksSuite : IBenchmarkSuite
{
    private const string Residual = "residual";
    private const string Mhc = "mhc";

    /// <inheritdoc />
    public string Name => "mixing-blocks";

    /// <inheritdoc />
    public string Description => "the Hyper-ResNet's step, blocks, shortcuts and expansion timed one by one, residual against mHC (fastest calls)";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        MixingSuite.OnOneThread(run, (sizes, data) =>
        {
            int repeats = run.Quick ? 3 : 40;
            var step = Fastest(repeats, [Residual, Mhc], name =>
            {
                var workload = MixingWorkload.Resnet(name == Residual ? ConnectionKind.Residual : ConnectionKind.Mhc, sizes, data);
                return new TimedPart(workload.Step, workload);
            });
            run.Log($"whole step: fastest CPU ms residual {step[Residual]:F2}, mhc {step[Mhc]:F2}, ratio {step[Mhc] / step[Residual]:F3}");
            run.Add("step_fastest_mhc_over_residual", step[Mhc] / step[Residual]);

            foreach (var (label, channels, size, stride) in new[] { ("block0", 16, 28, 1), ("block1", 16, 28, 2), ("block2", 32, 14, 2) })
            {
                var times = Fastest(repeats, [Residual, Mhc], name => Block(name == Residual ? ConnectionKind.Residual : ConnectionKind.Mhc,
                    channels, size, stride, sizes.ResnetBatch));
                run.Log($"{label} ({channels} ch, {size}x{size}, stride {stride}): fastest CPU ms residual {times[Residual]:F2}, " +
                    $"mhc {times[Mhc]:F2}, extra {times[Mhc] - times[Residual]:F2}");
                run.Add($"{label}_residual_ms", times[Residual]);
                run.Add($"{label}_mhc_ms", times[Mhc]);
            }

            foreach (var (channels, size) in new[] { (16, 14), (32, 7) })
            {
                string[] kinds = ["n = 1", "n = 4", "n = 4, channels last"];
                var times = Fastest(repeats, kinds, name => Shortcut(name == kinds[0] ? 1 : 4, name == kinds[2], channels, size, sizes.ResnetBatch));
                run.Log($"shortcut 1x1, {channels} to {2 * channels} ch on {size}x{size}: fastest CPU ms " +
                    string.Join(", ", kinds.Select(k => $"{k} {times[k]:F2}")));
            }

            var expansion = Fastest(repeats, [Residual, Mhc], name => Expansion(name == Residual ? 1 : 4, sizes.ResnetBatch));
            run.Log($"expand + collapse at 28x28: fastest CPU ms n = 1 {expansion[Residual]:F2}, n = 4 {expansion[Mhc]:F2}");
        });
    }

    /// <summary>The fastest CPU milliseconds per call of each named part, over interleaved rounds after three warm-up calls.</summary>
    private static Dictionary<string, double> Fastest(int repeats, string[] names, Func<string, TimedPart> build)
    {
        var parts = names.Select(build).ToList();
        try
        {
            foreach (var p in parts)
                for (int i = 0; i < 3; i++) p.Step();
            var best = names.ToDictionary(n => n, _ => double.MaxValue);
            for (int round = 0; round < repeats; round++)
                for (int k = 0; k < parts.Count; k++)
                {
                    double start = ThreadCpuClock.Milliseconds();
                    parts[k].Step();
                    best[names[k]] = Math.Min(best[names[k]], ThreadCpuClock.Milliseconds() - start);
                }
            return best;
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    // One hyper-connected block of the network (stride 2: a stage transition with its 1x1 shortcut) on random streams.
    private static TimedPart Block(ConnectionKind kind, int channels, int size, int stride, int batch)
    {
        manual_seed(1);
        var options = new MixingSettings { Connection = kind, ExpansionRate = 4 }
            .ToConnection(channels, StreamFeatureLayout.ChannelsFirst, DynamicGranularity.PerSample);
        int outChannels = stride == 1 ? channels : channels * 2;
        Module<Tensor, Tensor>? projection = stride == 1 ? null : Conv2d(channels, outChannels, 1, stride: stride, bias: false);
        var block = new HyperConnection("block", new BasicBlock(channels, outChannels, stride), options.WithLayer(1, channels), projection);
        block.train();
        int n = options.Streams;
        var x = randn(new long[] { batch, n, channels, size, size }).requires_grad_(true);
        var g = randn(new long[] { batch, n, outChannels, size / stride, size / stride });
        return TimedPart.Backward(block, () => block.forward(x), x, g);
    }

    // A stage transition's shortcut on its stride-2 subsample: a 1x1 convolution of n stream images per sample (mHC
    // projects every stream). Channels last gives libtorch the images and their gradient in the layout oneDNN works in,
    // which shows what its conversions from channels first cost.
    private static TimedPart Shortcut(int n, bool channelsLast, int channels, int size, int batch)
    {
        var conv = Conv2d(channels, 2 * channels, 1, bias: false);
        long[] input = channelsLast ? [batch * n, size, size, channels] : [batch * n, channels, size, size];
        long[] output = channelsLast ? [batch * n, size, size, 2 * channels] : [batch * n, 2 * channels, size, size];
        var x = (channelsLast ? randn(input).permute(0, 3, 1, 2) : randn(input)).requires_grad_(true);
        var g = channelsLast ? randn(output).permute(0, 3, 1, 2) : randn(output);
        return TimedPart.Backward(conv, () => functional.conv2d(x, conv.weight!), x, g);
    }

    // The stream expansion at the first stage and the collapse, with nothing between (n = 1: the residual network's).
    private static TimedPart Expansion(int n, int batch)
    {
        var stack = new HyperSequential("stack", n, []);
        var x = randn(new long[] { batch, 16, 28, 28 }).requires_grad_(true);
        var g = randn(new long[] { batch, 16, 28, 28 });
        return TimedPart.Backward(stack, () => stack.forward(x), x, g);
    }

    /// <summary>A timed call and what it owns.</summary>
    private sealed class TimedPart(Action step, params IDisposable[] owned) : IDisposable
    {
        public void Step() => step();

        /// <summary>Forward and backward of <paramref name="forward"/> with output gradient <paramref name="gradient"/>, in a dispose scope.</summary>
        public static TimedPart Backward(Module module, Func<Tensor> forward, Tensor input, Tensor gradient) => new(() =>
        {
            using var scope = NewDisposeScope();
            using var guard = NativeStep.Training();
            input.grad?.zero_();
            forward().backward([gradient]);
        }, module, input, gradient);

        public void Dispose()
        {
            foreach (var o in owned) o.Dispose();
        }
    }
}
