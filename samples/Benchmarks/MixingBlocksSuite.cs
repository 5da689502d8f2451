using Mhc.Models.Layers;
using Mhc.Models.Native;
using Mhc.Models.Vision;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Benchmarks;

/// <summary>
/// The main job's Hyper-ResNet taken apart: the stream expansion and collapse and each hyper-connected block on its own,
/// forward and backward, residual against mHC, interleaved (median of repeats, one thread). Says which part of the
/// network an mHC step's extra time is in, which the whole-step profile of <see cref="MixingSuite"/> cannot.
/// </summary>
public sealed class MixingBlocksSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "mixing-blocks";

    /// <inheritdoc />
    public string Description => "the Hyper-ResNet's expansion, blocks and collapse timed one by one, residual against mHC";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        MixingSuite.OnOneThread(run, (sizes, data) =>
        {
            int repeats = run.Quick ? 3 : 40;
            var steps = new[] { ConnectionKind.Residual, ConnectionKind.Mhc }.Select(kind => MixingWorkload.Resnet(kind, sizes, data)).ToList();
            try
            {
                var best = steps.ToDictionary(w => w.Kind, _ => double.MaxValue);
                foreach (var w in steps) for (int i = 0; i < 3; i++) w.Step();
                for (int round = 0; round < repeats; round++)
                    foreach (var w in steps)
                    {
                        double start = ThreadCpuClock.Milliseconds();
                        w.Step();
                        best[w.Kind] = Math.Min(best[w.Kind], ThreadCpuClock.Milliseconds() - start);
                    }
                double r = best[ConnectionKind.Residual], m = best[ConnectionKind.Mhc];
                run.Log($"whole step: fastest CPU ms residual {r:F2}, mhc {m:F2}, ratio {m / r:F3}");
                run.Add("step_fastest_mhc_over_residual", m / r);
            }
            finally
            {
                foreach (var w in steps) w.Dispose();
            }
            foreach (var (label, channels, size, stride) in new[] { ("block0", 16, 28, 1), ("block1", 16, 28, 2), ("block2", 32, 14, 2) })
            {
                var parts = new[] { ConnectionKind.Residual, ConnectionKind.Mhc }
                    .Select(kind => Part(kind, channels, size, stride, sizes.ResnetBatch)).ToList();
                try
                {
                    var times = Fastest(parts, repeats);
                    double r = times["residual"], m = times["mhc"];
                    run.Log($"{label} ({channels} ch, {size}x{size}, stride {stride}): fastest CPU ms residual {r:F2}, mhc {m:F2}, extra {m - r:F2}");
                    run.Add($"{label}_residual_ms", r);
                    run.Add($"{label}_mhc_ms", m);
                }
                finally
                {
                    foreach (var p in parts) p.Dispose();
                }
            }
            foreach (var (channels, size) in new[] { (16, 28), (32, 14) })
            {
                var projections = new[] { (4, 0), (4, 9), (4, 10), (4, 6), (4, 7) }.Select(v => Projection(v.Item1, v.Item2, channels, size, sizes.ResnetBatch)).ToList();
                try
                {
                    var times = InterleavedTimer.MedianTimes(projections.Select(p => (p.Name, (Action)p.Step)).ToList(), 3, repeats);
                    run.Log($"projection {channels} to {2 * channels} ch from {size}x{size}: CPU ms " + string.Join(", ", times.Cpu.Select(kv => $"{kv.Key} {kv.Value:F2}")));
                }
                finally
                {
                    foreach (var p in projections) p.Dispose();
                }
            }
            var expand = new[] { 1, 4 }.Select(n => Expansion(n, sizes.ResnetBatch)).ToList();
            try
            {
                var times = InterleavedTimer.MedianTimes(expand.Select(p => (p.Name, (Action)p.Step)).ToList(), 3, repeats);
                run.Log($"expand + collapse: CPU ms n=1 {times.Cpu["residual"]:F2}, n=4 {times.Cpu["mhc"]:F2}");
            }
            finally
            {
                foreach (var p in expand) p.Dispose();
            }
        });
    }

    // The fastest of the interleaved calls of each part, in CPU milliseconds of the calling thread: on a shared machine
    // the fastest call is the one least disturbed, which is what a comparison of two builds needs.
    private static Dictionary<string, double> Fastest(IReadOnlyList<BlockPart> parts, int repeats)
    {
        foreach (var p in parts)
            for (int i = 0; i < 3; i++) p.Step();
        var best = parts.ToDictionary(p => p.Name, _ => double.MaxValue);
        for (int round = 0; round < repeats; round++)
            foreach (var p in parts)
            {
                double start = ThreadCpuClock.Milliseconds();
                p.Step();
                best[p.Name] = Math.Min(best[p.Name], ThreadCpuClock.Milliseconds() - start);
            }
        return best;
    }

    private static BlockPart Part(ConnectionKind kind, int channels, int size, int stride, int batch)
    {
        manual_seed(1);
        var mixing = new MixingSettings { Connection = kind, ExpansionRate = 4 };
        var options = mixing.ToConnection(channels, StreamFeatureLayout.ChannelsFirst, DynamicGranularity.PerSample);
        int outChannels = stride == 1 ? channels : channels * 2;
        Module<Tensor, Tensor>? projection = stride == 1 ? null : Conv2d(channels, outChannels, 1, stride: stride, bias: false);
        var block = new HyperConnection("block", new BasicBlock(channels, outChannels, stride), options.WithLayer(1, channels), projection);
        int n = options.Streams;
        var x = randn(new long[] { batch, n, channels, size, size }).requires_grad_(true);
        var g = randn(new long[] { batch, n, outChannels, size / stride, size / stride });
        block.train();
        return new BlockPart(kind == ConnectionKind.Residual ? "residual" : "mhc", block, () => block.forward(x), x, g);
    }

    private static BlockPart Projection(int n, int variant, int channels, int size, int batch)
    {
        var conv = Conv2d(channels, 2 * channels, 1, stride: 2, bias: false);
        var x = randn(new long[] { batch * n, channels, size, size }).requires_grad_(true);
        var g = randn(new long[] { batch * n, variant == 4 ? channels : 2 * channels, size / 2, size / 2 });
        if (variant == 5)
        {
            var s5 = randn(new long[] { batch * n * (size / 2) * (size / 2), channels }).requires_grad_(true);
            var g5 = randn(new long[] { batch * n * (size / 2) * (size / 2), 2 * channels });
            return new BlockPart($"n{n}v{variant}", conv, () => mm(s5, conv.weight!.view(2 * channels, channels).t()), s5, g5);
        }
        if (variant == 8)
        {
            var s8 = randn(new long[] { batch * n, channels, (size / 2) * (size / 2) }).requires_grad_(true);
            var g8 = randn(new long[] { batch * n, 2 * channels, (size / 2) * (size / 2) });
            return new BlockPart($"n{n}v{variant}", conv, () => bmm(conv.weight!.view(1, 2 * channels, channels).expand(batch * n, -1, -1), s8), s8, g8);
        }
        if (variant == 7)
        {
            var s7 = randn(new long[] { batch * n, size / 2, size / 2, channels }).permute(0, 3, 1, 2).requires_grad_(true);
            var g7 = randn(new long[] { batch * n, size / 2, size / 2, 2 * channels }).permute(0, 3, 1, 2);
            return new BlockPart($"n{n}v{variant}", conv, () => functional.conv2d(s7, conv.weight!), s7, g7);
        }
        if (variant == 6)
        {
            var s6 = randn(new long[] { batch * n, channels, size / 2, size / 2 }).requires_grad_(true);
            return new BlockPart($"n{n}v{variant}", conv, () => functional.conv2d(s6, conv.weight!), s6, g);
        }
        Func<Tensor> forward = variant switch
        {
            0 => () => functional.conv2d(Sub(x).contiguous(), conv.weight!),
            1 => () => functional.conv2d(Sub(x).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), conv.weight!).contiguous(),
            4 => () => Sub(x).contiguous(),
            9 => () => functional.conv2d(Sub(x).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), conv.weight!).contiguous(),
            10 => () => functional.conv2d(Sub(x).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2), conv.weight!),
            3 => () => mm(conv.weight!.view(2 * channels, channels), Sub(x).permute(1, 0, 2, 3).contiguous().view(channels, -1))
                .view(2 * channels, batch * n, -1).permute(1, 0, 2).contiguous().view(g.shape),
            _ => () => matmul(conv.weight!.view(2 * channels, channels), Sub(x).contiguous().view(batch * n, channels, -1)).view(g.shape),
        };
        return new BlockPart($"n{n}v{variant}", conv, forward, x, g);
    }

    private static Tensor Sub(Tensor x) => x[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(null, null, 2), TensorIndex.Slice(null, null, 2)];

    private static BlockPart Expansion(int n, int batch)
    {
        var stack = new HyperSequential("s", n, []);
        var x = randn(new long[] { batch, 16, 28, 28 }).requires_grad_(true);
        var g = randn(new long[] { batch, 16, 28, 28 });
        return new BlockPart(n == 1 ? "residual" : "mhc", stack, () => stack.forward(x), x, g);
    }

    private sealed class BlockPart(string name, Module module, Func<Tensor> forward, Tensor input, Tensor gradient) : IDisposable
    {
        public string Name => name;

        public void Step()
        {
            using var scope = NewDisposeScope();
            using var step = NativeStep.Training();
            input.grad?.zero_();
            var y = forward();
            y.backward([gradient]);
        }

        public void Dispose()
        {
            module.Dispose();
            input.Dispose();
            gradient.Dispose();
        }
    }
}
