using System.Diagnostics;
using Mhc.Models;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Mhc.Samples.Data;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// Does our decoder learn at the reference's pace? Trains <see cref="HyperDecoderTransformer"/> in the reference
/// implementation's text configuration (richardhahahaha/mHC <c>text_train.py</c>: dim 128, 6 layers, 4 heads, n = 4,
/// dropout 0.1, context 128, batch 64, AdamW at a constant 3e-4, weight decay 0.01 on every parameter) on the
/// Austen text, and writes the text it used so that <c>reference/decoder_reference.py</c> trains the reference's
/// <c>HyperConnectionDecodeTransformer</c> on the same characters for the same steps. Figures: mean training loss per
/// 50-step window and the validation loss on fixed windows.
/// </summary>
/// <remarks>The optimiser is the reference's, not this library's trainer (warmup, cosine, no decay on mixing), so that
/// the two networks are compared under one training recipe.</remarks>
public sealed class DecoderReferenceSuite : IBenchmarkSuite
{
    /// <summary>Steps per window of the reported training loss.</summary>
    public const int Window = 50;

    /// <inheritdoc />
    public string Name => "decoder-reference";

    /// <inheritdoc />
    public string Description => "our decoder in the reference implementation's text configuration, for a side-by-side loss curve with reference/decoder_reference.py";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        MhcEnvironment.EnsureTorch();
        int steps = run.Quick ? 4 : 300, batch = run.Quick ? 4 : 64, context = run.Quick ? 32 : 128, evalBatches = run.Quick ? 1 : 20;
        var (train, validation) = JaneAusten.TrainValidation(["prideprejudice", "northangerabbey"]);
        var directory = Path.Combine(run.OutDirectory ?? "out", "decoder-reference");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "train.txt"), train);
        File.WriteAllText(Path.Combine(directory, "validation.txt"), validation);

        // The reference's vocabulary: the sorted characters of the text.
        var chars = train.Concat(validation).Distinct().OrderBy(c => c).ToArray();
        var index = chars.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i);
        long[] trainIds = train.Select(c => index[c]).ToArray(), validationIds = validation.Select(c => index[c]).ToArray();

        foreach (var kind in new[] { ConnectionKind.Mhc, ConnectionKind.Residual })
        {
            random.manual_seed(1);
            using var model = new HyperDecoderTransformer(new HyperDecoderTransformerOptions
            {
                VocabSize = chars.Length, ContextLength = context, Transformer = new() { Dim = run.Quick ? 32 : 128, Layers = run.Quick ? 2 : 6, Heads = 4, MlpRatio = 4, Dropout = 0.1 }, Mixing = new() { ExpansionRate = 4, Connection = kind },
            });
            using var optimizer = optim.AdamW(model.parameters(), 3e-4, weight_decay: 0.01);
            var draw = new Random(1);
            var windows = new List<double>();
            double sum = 0;
            var clock = Stopwatch.StartNew();
            model.train();
            for (int step = 1; step <= steps; step++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = Batch(trainIds, batch, context, draw);
                optimizer.zero_grad();
                var logits = model.forward(x);
                var loss = nn.functional.cross_entropy(logits.reshape(-1, chars.Length), y.reshape(-1));
                loss.backward();
                optimizer.step();
                sum += loss.item<float>();
                if (step % Window == 0 || step == steps)
                {
                    windows.Add(sum / (step % Window == 0 ? Window : step % Window));
                    run.Log($"{kind} step {step}: mean training loss of the window {windows[^1]:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
                    sum = 0;
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            model.eval();
            var evalDraw = new Random(2);
            double validationLoss = 0;
            using (no_grad())
                for (int i = 0; i < evalBatches; i++)
                {
                    using var scope = NewDisposeScope();
                    var (x, y) = Batch(validationIds, batch, context, evalDraw);
                    validationLoss += nn.functional.cross_entropy(model.forward(x).reshape(-1, chars.Length), y.reshape(-1)).item<float>() / evalBatches;
                }
            string key = kind.ToString().ToLowerInvariant();
            run.Log($"{kind}: validation loss {validationLoss:F4} nats/char after {steps} steps, {seconds / steps * 1000:F0} ms/step");
            run.Add($"decoder_reference_ours_{key}_train_loss_windows", windows);
            run.Add($"decoder_reference_ours_{key}_validation_loss", validationLoss);
            run.Add($"decoder_reference_ours_{key}_ms_per_step", seconds / steps * 1000);
        }
        run.Add("decoder_reference_steps", steps);
        run.Add("decoder_reference_text", directory);
    }

    // Random windows of context + 1 characters (input and the next character), as the reference's shuffled loader.
    private static (Tensor X, Tensor Y) Batch(long[] ids, int batch, int context, Random draw)
    {
        var x = new long[batch * context];
        var y = new long[batch * context];
        for (int b = 0; b < batch; b++)
        {
            int start = draw.Next(ids.Length - context - 1);
            Array.Copy(ids, start, x, b * context, context);
            Array.Copy(ids, start + 1, y, b * context, context);
        }
        return (tensor(x, [batch, context]), tensor(y, [batch, context]));
    }
}
