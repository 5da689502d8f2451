namespace Benchmarks;

/// <summary>Only figure (d) of <see cref="MixingSuite"/>: generation speed of the decoder with its key/value cache.</summary>
public sealed class MixingGenerateSuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "mixing-generate";

    /// <inheritdoc />
    public string Description => "the mixing suite's generation speed only (KV cache, one thread)";

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        MixingSuite.OnOneThread(run, (sizes, data) =>
        {
            using var generation = new MixingGeneration(sizes, data);
            double rate = generation.CharactersPerSecond(sizes.GeneratedCharacters, sizes.GenerationRepeats);
            run.Log($"generation: {rate:F1} chars/s ({sizes.GeneratedCharacters} new characters, KV cache, {MixingSuite.Threads} thread)");
            run.Add("generate_chars_per_second", rate);
        });
    }
}
