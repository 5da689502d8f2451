using Mhc.Models.Transformers;
using Mhc.Models.Weights;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Persistence;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// A trained text-generation model (from <see cref="MhcDecoderTrainer"/>). <see cref="Transform"/> adds
/// <c>GeneratedText</c> (the continuation of each row's prompt) when the prompt column is present, and
/// <c>NegativeLogLikelihood</c> / <c>PredictedTokens</c> (for <see cref="TextGenerationCatalog.Evaluate(IDataView, string)"/>)
/// when the text column is present. Values are computed lazily, per row read. <see cref="Generator"/>
/// generates from one prompt directly, including as a stream.
/// </summary>
/// <remarks>
/// Saved with <c>mlContext.Model.Save</c>, the model becomes one saved scoring segment of stock ML.NET transforms
/// carrying the network (prompt in, generated text out; see <see cref="ScoringSegment"/>), which
/// <c>mlContext.Model.Load</c> reads back in a fresh process. Loaded with <see cref="MhcModelFile.Load"/>, it runs the
/// same view as this transformer's <see cref="Transform"/>: the same columns (the per-row likelihood of a text column
/// included) and the same text for a seeded prompt. Use <see cref="TextGenerationCatalog.CreateGenerator"/> on a loaded
/// model for direct generation and scoring. <see cref="Dispose"/> frees the decoder's native memory.
/// </remarks>
public sealed class MhcTextGenerationTransformer : ITransformer, IDisposable, IReleasable
{
    private readonly MLContext context;
    // The blobs of the saved chains handed out, weakly: a prediction engine keeps its chain's blob alive, a dropped one does not.
    private readonly List<WeakReference<string>> savedBlobs = [];

    internal MhcTextGenerationTransformer(MLContext context, HyperDecoderTransformer network, TextVocabulary vocabulary,
        MhcTrainingHistory? history, TextGenerationColumns columns, TextGenerationOptions generation)
    {
        this.context = context;
        Columns = columns;
        History = history;
        Generator = new TextGenerator(new TextGenerationEngine(network, vocabulary, nameof(MhcTextGenerationTransformer)), generation);
    }

    /// <summary>Generation and scoring outside data views (also as a stream of pieces).</summary>
    public TextGenerator Generator { get; }

    /// <summary>The trained decoder.</summary>
    public HyperDecoderTransformer Network => Generator.Network;

    /// <summary>The vocabulary built from the training text.</summary>
    public TextVocabulary Vocabulary => Generator.Vocabulary;

    /// <summary>The sampling settings used by <see cref="Transform"/> and by default (change them before transforming).</summary>
    public TextGenerationOptions GenerationOptions => Generator.DefaultOptions;

    /// <summary>The columns read and written.</summary>
    public TextGenerationColumns Columns { get; }

    /// <summary>Per-epoch training report (losses, speed, mHC diagnostics); null for a model not trained in this process.</summary>
    public MhcTrainingHistory? History { get; }

    /// <summary>Shortcut for <see cref="TextGenerator.Generate"/>.</summary>
    public string Generate(string? prompt, TextGenerationOptions? options = null) => Generator.Generate(prompt, options);

    /// <summary>Shortcut for <see cref="TextGenerator.GenerateStream"/>.</summary>
    public IEnumerable<string> GenerateStream(string? prompt, TextGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Generator.GenerateStream(prompt, options, cancellationToken);

    /// <summary>True: a prediction engine (prompt in, generated text out) can be built on this model.</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new TextGenerationDataView(new DataViews.SchemaOnlyDataView(inputSchema), Generator, Columns).Schema;
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Generator.Engine.ThrowIfDisposed();
        GenerationOptions.Validate();
        return new TextGenerationDataView(input, Generator, Columns);
    }

    /// <summary>A row mapper from the prompt column to the generated text (the same chain that is saved).</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return ((ITransformer)SavedChain(inputSchema)).GetRowToRowMapper(inputSchema);
    }

    /// <summary>Saves the model as a chain of stock ML.NET transforms that carries the network (see the remarks).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        // The input schema only matters for the prompt column, which the chain copies.
        var schema = new DataViewSchema.Builder();
        schema.AddColumn(Columns.Prompt, TextDataViewType.Instance);
        ((ICanSaveModel)SavedChain(schema.ToSchema())).Save(ctx);
    }

    /// <summary>
    /// Writes the decoder's weights (its state_dict) to <paramref name="path"/> atomically, as safetensors or PyTorch
    /// <c>.pt</c> (see <see cref="ModuleWeights.Save"/>), for PyTorch, for <see cref="MhcDecoderTrainer.FromWeights"/> or for
    /// fine-tuning (<see cref="MhcTrainerOptions.InitialWeightsPath"/>). Returns the full path.
    /// </summary>
    /// <param name="path">The target file.</param>
    /// <param name="format">The format; null: from the extension (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>: PyTorch; otherwise safetensors).</param>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public string SaveWeights(string path, WeightsFormat? format = null) => Generator.Engine.SaveWeights(path, format);

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsReleased => Generator.Engine.IsDisposed;

    /// <summary>
    /// Frees the decoder's native memory, and that of the copies its saved chains generate with (prediction engines).
    /// Afterwards generation, scoring, <see cref="Transform"/>, prediction engines and saving throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        Generator.Engine.Dispose();
        string[] blobs;
        lock (savedBlobs)
        {
            blobs = savedBlobs.Select(w => w.TryGetTarget(out var b) ? b : null).OfType<string>().ToArray();
            savedBlobs.Clear();
        }
        foreach (var blob in blobs) SavedNetworks.ReleaseBlob(blob.AsMemory());
    }

    private TransformerChain<ITransformer> SavedChain(DataViewSchema inputSchema)
    {
        Generator.Engine.ThrowIfDisposed();
        GenerationOptions.Validate();
        var prompt = inputSchema.GetColumnOrNull(Columns.Prompt);
        if (prompt is null || prompt.Value.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The prompt column '{Columns.Prompt}' (text) was not found" + (prompt is null ? "" : $" (it is {prompt.Value.Type})") +
                $". Available columns: {string.Join(", ", inputSchema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' ({c.Type})"))}.");
        var chain = TextGenerationModelFile.Chain(context, inputSchema, CurrentEncoding(), Columns);
        // Prediction engines keep the chain's row mappers, not the chain: remember the blob their copy is keyed by.
        foreach (var blob in SavedNetworks.Blobs(chain))
        {
            if (!System.Runtime.InteropServices.MemoryMarshal.TryGetString(blob, out var text, out _, out _)) continue;
            lock (savedBlobs)
            {
                savedBlobs.RemoveAll(w => !w.TryGetTarget(out _));
                if (!savedBlobs.Any(w => w.TryGetTarget(out var b) && ReferenceEquals(b, text))) savedBlobs.Add(new WeakReference<string>(text));
            }
        }
        return chain;
    }

    private readonly object encodingGate = new();
    private string? encodedSettings;
    private string? encoding;

    /// <summary>The serialized model, re-encoded only when the sampling settings changed since the last call.</summary>
    private string CurrentEncoding()
    {
        var settings = System.Text.Json.JsonSerializer.Serialize(GenerationOptions);
        lock (encodingGate)
        {
            if (encodedSettings != settings)
            {
                encoding = TextGenerationModelFile.Encode(Generator, Columns);
                encodedSettings = settings;
            }
            return encoding!;
        }
    }
}
