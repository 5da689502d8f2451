using System.Diagnostics;
using Mhc.Models.Diagnostics;
using Mhc.Models.Layers;
using Mhc.Samples.Networks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace StabilityBenchmark;

/// <summary>One network in the race and its curves.</summary>
public sealed class Contender(DeepStack model, double learningRate)
{
    /// <summary>The network.</summary>
    public DeepStack Model { get; } = model;

    /// <summary>Its optimiser.</summary>
    public TorchSharp.Modules.Adam Optimizer { get; } = optim.Adam(model.parameters(), learningRate);

    /// <summary>Connection kind.</summary>
    public ConnectionKind Kind => Model.Kind ?? throw new InvalidOperationException("The stability race compares hyper-connection kinds only.");

    /// <summary>Training loss per step (NaN after divergence).</summary>
    public List<double> Loss { get; } = [];

    /// <summary>Global gradient L2 norm per step, before the optimiser step.</summary>
    public List<double> GradientNorm { get; } = [];

    /// <summary>Wall time of forward + backward + optimiser step, per step, in milliseconds.</summary>
    public List<double> StepMilliseconds { get; } = [];

    /// <summary>Whether the loss became non-finite (training of this network then stops).</summary>
    public bool Diverged { get; set; }
}

/// <summary>
/// Trains the networks on the same batches in lock-step, rotating which one goes first each step so
/// that load from other processes on a shared machine spreads evenly over the three; step time is the
/// median over the steps after warm-up.
/// </summary>
public static class TrainingRace
{
    /// <summary>Runs <paramref name="steps"/> steps; <paramref name="onStep"/> is called after each.</summary>
    public static void Run(IReadOnlyList<Contender> contenders, Tensor trainX, Tensor trainY, int steps, int batchSize, int seed, Action<int> onStep)
    {
        var random = new Random(seed);
        long n = trainX.shape[0];
        var order = Enumerable.Range(0, (int)n).ToArray();
        int cursor = order.Length;
        var watch = new Stopwatch();
        foreach (var c in contenders) c.Model.train();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            if (cursor + batchSize > order.Length)
            {
                Shuffle(order, random);
                cursor = 0;
            }
            var index = tensor(order.AsSpan(cursor, batchSize).ToArray().Select(i => (long)i).ToArray());
            cursor += batchSize;
            var x = trainX.index_select(0, index);
            var y = trainY.index_select(0, index);
            for (int k = 0; k < contenders.Count; k++)
            {
                var c = contenders[(k + step) % contenders.Count];
                if (c.Diverged)
                {
                    c.Loss.Add(double.NaN);
                    c.GradientNorm.Add(double.NaN);
                    continue;
                }
                using var inner = NewDisposeScope();
                watch.Restart();
                c.Optimizer.zero_grad();
                var loss = functional.cross_entropy(c.Model.forward(x), y);
                loss.backward();
                c.Optimizer.step();
                watch.Stop();
                c.StepMilliseconds.Add(watch.Elapsed.TotalMilliseconds);
                double value = loss.ToDouble();
                c.Loss.Add(value);
                c.GradientNorm.Add(GradientNorms.Total(c.Model.parameters()) ?? double.NaN);
                if (!double.IsFinite(value)) c.Diverged = true;
            }
            onStep(step + 1);
        }
    }

    private static void Shuffle(int[] items, Random random)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
