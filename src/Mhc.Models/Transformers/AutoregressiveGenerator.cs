using Mhc.Models.Fused;
using Mhc.Models.Native;
using static TorchSharp.torch;

namespace Mhc.Models.Transformers;

/// <summary>
/// Generates token ids from a <see cref="HyperDecoderTransformer"/> one at a time, with or without the
/// key/value cache.
/// </summary>
/// <remarks>
/// Without the cache every step re-runs the last ContextLength tokens (the reference computation, cost
/// growing with the window). With the cache every step runs the new token only; when the window is full,
/// the cache is rebuilt from the last half of the context in one prefill pass, because learned absolute
/// positions cannot be shifted in place. Within the first window both give the same logits; past it the
/// cached path conditions on between half and all of the context instead of all of it.
/// </remarks>
public sealed class AutoregressiveGenerator
{
    private readonly HyperDecoderTransformer model;

    /// <summary>Creates a generator over <paramref name="model"/> (which is switched to evaluation mode while generating).</summary>
    public AutoregressiveGenerator(HyperDecoderTransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
    }

    /// <summary>
    /// Yields up to <paramref name="maxNewTokens"/> token ids continuing <paramref name="prompt"/>, lazily;
    /// stops early when <paramref name="stop"/> returns true for a generated id (the id is still yielded).
    /// Several generations may run at once on one model: each has its own cache, and their forward
    /// passes are serialised by locking the model (the cache is attached to it for one pass).
    /// </summary>
    /// <param name="prompt">At least one token id; only the last ContextLength are used.</param>
    /// <param name="maxNewTokens">How many ids to generate.</param>
    /// <param name="sampler">Temperature / top-k / top-p sampling.</param>
    /// <param name="random">Source of the draws; a seeded one makes the output reproducible.</param>
    /// <param name="useCache">Use the key/value cache (one step per token) or recompute the window each step.</param>
    /// <param name="stop">Optional stop predicate.</param>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, int maxNewTokens, TokenSampler sampler, Random random,
        bool useCache = true, Func<int, bool>? stop = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(random);
        if (prompt.Count == 0) throw new ArgumentException("The prompt needs at least one token.", nameof(prompt));
        if (maxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), maxNewTokens, "Must be 0 or more.");
        int vocab = model.Options.VocabSize;
        foreach (var id in prompt)
            if (id < 0 || id >= vocab)
                throw new ArgumentException($"Prompt token id {id} is outside the vocabulary (0..{vocab - 1}).", nameof(prompt));
        return Iterate(prompt.ToList(), maxNewTokens, sampler, random, useCache, stop);
    }

    private IEnumerable<int> Iterate(List<int> history, int maxNewTokens, TokenSampler sampler, Random random,
        bool useCache, Func<int, bool>? stop)
    {
        if (maxNewTokens == 0) yield break;
        int context = model.Options.ContextLength;
        bool wasTraining = model.training;
        if (wasTraining) model.eval();
        var device = model.parameters().First().device;
        KeyValueCache? cache = useCache ? model.CreateCache() : null;
        try
        {
            float[] logits = useCache ? Prefill(history, cache!, device) : Window(history, device);
            for (int produced = 0; produced < maxNewTokens; produced++)
            {
                int next = sampler.Sample(logits, random);
                history.Add(next);
                yield return next;
                if (stop is not null && stop(next)) yield break;
                if (produced + 1 == maxNewTokens) yield break;
                if (!useCache) logits = Window(history, device);
                else if (cache!.Length < context) logits = Step(next, cache, device);
                else logits = Prefill(history.GetRange(history.Count - Math.Max(1, context / 2), Math.Max(1, context / 2)), cache, device);
            }
        }
        finally
        {
            cache?.Dispose();
            if (wasTraining) model.train();
        }
    }

    /// <summary>Resets the cache and runs the last ContextLength tokens through it; returns the last position's logits.</summary>
    private float[] Prefill(IReadOnlyList<int> tokens, KeyValueCache cache, Device device)
    {
        cache.Reset();
        int count = Math.Min(tokens.Count, model.Options.ContextLength);
        var ids = new long[count];
        for (int i = 0; i < count; i++) ids[i] = tokens[tokens.Count - count + i];
        return LastLogits(ids, cache, device);
    }

    private float[] Step(int token, KeyValueCache cache, Device device) => LastLogits(new long[] { token }, cache, device);

    private float[] Window(IReadOnlyList<int> history, Device device)
    {
        int count = Math.Min(history.Count, model.Options.ContextLength);
        var ids = new long[count];
        for (int i = 0; i < count; i++) ids[i] = history[history.Count - count + i];
        return LastLogits(ids, null, device);
    }

    private float[] LastLogits(long[] ids, KeyValueCache? cache, Device device)
    {
        using var scope = NewDisposeScope();
        // Inference mode: no graph, and no version counters or view tracking on any op either. The ids were
        // checked on the host (the prompt in Generate, the samples are drawn from the vocabulary).
        using var step = NativeStep.Inference();
        var x = tensor(ids, [1, ids.Length], dtype: ScalarType.Int64, device: device);
        Tensor logits;
        lock (model) logits = cache is null ? model.forward(x) : model.Forward(x, cache, checkIds: false);
        var last = logits.select(0, 0).select(0, -1);
        if (!TensorMemory.IsKernelReady(last)) last = last.to(CPU).to_type(ScalarType.Float32).contiguous();
        unsafe
        {
            return new ReadOnlySpan<float>(TensorMemory.Pointer(last), (int)last.numel()).ToArray();
        }
    }
}
