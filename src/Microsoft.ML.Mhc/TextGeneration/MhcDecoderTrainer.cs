using System.Text;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Logging;
using Microsoft.ML.Mhc.Training;
using Microsoft.ML.SearchSpace;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>
/// Trains a decoder-only transformer with hyper-connections (<see cref="HyperDecoderTransformer"/>) on the
/// text of one column: the rows are joined (separated by a newline) into one stream, a vocabulary is built
/// (characters by default, or a <see cref="Microsoft.ML.Tokenizers.Tokenizer"/>), and the network learns to
/// predict the next token on random windows of the stream. The fitted
/// <see cref="MhcTextGenerationTransformer"/> generates text from a prompt column and scores texts.
/// </summary>
public sealed partial class MhcDecoderTrainer : IEstimator<MhcTextGenerationTransformer>
{
    /// <summary>Options of <see cref="MhcDecoderTrainer"/>. Shared training options come from <see cref="MhcTrainerOptions"/>.</summary>
    /// <remarks>
    /// The members carrying <c>Microsoft.ML.SearchSpace</c> attributes form the search space of
    /// <see cref="Microsoft.ML.Mhc.Sweeps.Sweeper{TOptions}"/> and of AutoML's <c>SearchSpace&lt;T&gt;</c>; each
    /// attribute's default is the property's default. <see cref="Generation"/> is not part of it: sampling does
    /// not change the trained network or its loss (<see cref="TextGenerationOptions"/> has a space of its own).
    /// Heads are swept over divisors of every swept <see cref="Dim"/>, so any combination is valid.
    /// </remarks>
    public sealed class Options : MhcTrainerOptions
    {
        /// <summary>Sets the text-generation defaults of the shared options: 10 epochs of 200 steps, batch 32, learning rate 0.001, weight decay 0.1.</summary>
        public Options()
        {
            MaxEpochs = 10;
            BatchSize = 32;
            LearningRate = 1e-3;
            WeightDecay = 0.1;
            WarmupFraction = 0.02;
            FinalLearningRateFraction = 0.1;
        }

        /// <summary>Windows per optimisation step. Default 32 (swept over 16, 32, 64).</summary>
        [Choice(new object[] { 16, 32, 64 }, 32)]
        public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }

        /// <summary>Peak learning rate of AdamW, reached after the warmup. Default 0.001 (swept log-uniformly over [1e-4, 1e-2]).</summary>
        [Range(1e-4, 1e-2, 1e-3, true)]
        public override double LearningRate { get => base.LearningRate; set => base.LearningRate = value; }

        /// <summary>Decoupled weight decay of AdamW on weight matrices. Default 0.1, as usual for transformers (swept log-uniformly over [1e-3, 0.3]).</summary>
        [Range(1e-3, 0.3, 0.1, true)]
        public override double WeightDecay { get => base.WeightDecay; set => base.WeightDecay = value; }

        /// <summary>Share of all steps spent warming the learning rate up linearly from zero. Default 0.02 (swept over [0, 0.2]).</summary>
        [Range(0.0, 0.2, 0.02, false)]
        public override double WarmupFraction { get => base.WarmupFraction; set => base.WarmupFraction = value; }

        /// <summary>The training text column (text; documents, paragraphs or lines). Default "Text".</summary>
        public string TextColumnName { get; set; } = DefaultColumnNames.Text;

        /// <summary>The prompt column the fitted transformer reads. Default "Prompt".</summary>
        public string PromptColumnName { get; set; } = DefaultColumnNames.Prompt;

        /// <summary>The column the fitted transformer writes generated text to. Default "GeneratedText".</summary>
        public string GeneratedTextColumnName { get; set; } = DefaultColumnNames.GeneratedText;

        /// <summary>Tokens the model sees at once (and the length of the training windows). Default 128.</summary>
        [Choice(new object[] { 64, 128, 256 }, 128)]
        public int ContextLength { get; set; } = 128;

        /// <summary>Model width (channels per stream). Default 192.</summary>
        [Choice(new object[] { 128, 192, 256 }, 192)]
        public int Dim { get; set; } = 192;

        /// <summary>Transformer blocks. Default 4.</summary>
        [Range(2, 8, 4, false)]
        public int Layers { get; set; } = 4;

        /// <summary>Attention heads; must divide <see cref="Dim"/>. Default 4.</summary>
        [Choice(new object[] { 2, 4, 8 }, 4)]
        public int Heads { get; set; } = 4;

        /// <summary>MLP hidden width as a multiple of <see cref="Dim"/>. Default 4.</summary>
        [Choice(new object[] { 2, 4 }, 4)]
        public int MlpRatio { get; set; } = 4;

        /// <summary>Swept view of <see cref="MixingSettings.ExpansionRate"/> (see <see cref="MhcTrainerOptions.Mixing"/>): n residual streams, at least 2 for HC and mHC. Default 4.</summary>
        [Choice(new object[] { 2, 4, 8 }, 4)]
        public int ExpansionRate { get => Mixing.ExpansionRate; set => Mixing = Mixing with { ExpansionRate = value }; }

        /// <summary>Swept view of <see cref="MixingSettings.Connection"/>: Residual, Hc or Mhc around every sublayer. Default <see cref="ConnectionKind.Mhc"/>.</summary>
        [Choice(new object[] { ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc }, ConnectionKind.Mhc)]
        public ConnectionKind Connection { get => Mixing.Connection; set => Mixing = Mixing with { Connection = value }; }

        /// <summary>Swept view of <see cref="MixingSettings.DynamicMixing"/>: input-dependent stream mixing (mHC eq. 5-7). Default true.</summary>
        [BooleanChoice(true)]
        public bool DynamicMixing { get => Mixing.DynamicMixing; set => Mixing = Mixing with { DynamicMixing = value }; }

        /// <summary>Dropout in the decoder, in training only. Default 0.1.</summary>
        [Range(0.0, 0.3, 0.1, false)]
        public double Dropout { get; set; } = 0.1;

        /// <summary>Whether the output head shares the token-embedding matrix. Default false.</summary>
        [BooleanChoice(false)]
        public bool TieEmbeddings { get; set; }

        /// <summary>Optimisation steps per epoch (an epoch is this many batches of random windows). Default 200.</summary>
        public int StepsPerEpoch { get; set; } = 200;

        /// <summary>Fixed windows, evenly spaced over the validation text, evaluated after every epoch. Default 256.</summary>
        public int ValidationWindows { get; set; } = 256;

        /// <summary>
        /// A sub-word tokenizer; null (default) uses one token per character. Only the tokenizer's ids that
        /// occur in the training text become the model's vocabulary.
        /// </summary>
        public Tokenizer? Tokenizer { get; set; }

        /// <summary>
        /// The name a saved model records for <see cref="Tokenizer"/>; register the same tokenizer under it
        /// with <see cref="TokenizerVocabulary.RegisterTokenizer"/> before loading the model in another
        /// process. Default "tokenizer".
        /// </summary>
        public string TokenizerName { get; set; } = "tokenizer";

        /// <summary>How the fitted transformer samples (tokens, temperature, top-k, top-p, seed).</summary>
        public TextGenerationOptions Generation { get; set; } = new();

        /// <inheritdoc />
        public override void Validate()
        {
            base.Validate();
            Check(ContextLength >= 1, nameof(ContextLength), ContextLength, "at least 1");
            Check(StepsPerEpoch >= 1, nameof(StepsPerEpoch), StepsPerEpoch, "at least 1");
            Check(ValidationWindows >= 1, nameof(ValidationWindows), ValidationWindows, "at least 1");
            if (string.IsNullOrWhiteSpace(TextColumnName)) throw new ArgumentException("TextColumnName must name the training text column.", nameof(TextColumnName));
            if (string.IsNullOrWhiteSpace(PromptColumnName)) throw new ArgumentException("PromptColumnName must name a column.", nameof(PromptColumnName));
            if (string.IsNullOrWhiteSpace(GeneratedTextColumnName)) throw new ArgumentException("GeneratedTextColumnName must name a column.", nameof(GeneratedTextColumnName));
            if (Tokenizer is not null && string.IsNullOrWhiteSpace(TokenizerName))
                throw new ArgumentException("TokenizerName must be set when a Tokenizer is given (saved models record it).", nameof(TokenizerName));
            ArgumentNullException.ThrowIfNull(Generation, nameof(Generation));
            Generation.Validate();
            NetworkOptions(vocabSize: 2).Validate();
        }

        internal HyperDecoderTransformerOptions NetworkOptions(int vocabSize) => new()
        {
            VocabSize = vocabSize,
            ContextLength = ContextLength,
            Transformer = new() { Dim = Dim, Layers = Layers, Heads = Heads, MlpRatio = MlpRatio, Dropout = Dropout },
            Mixing = Mixing,
            TieEmbeddings = TieEmbeddings,
        };
    }

    /// <summary>The trainer's name: the source of its lines in <c>mlContext.Log</c>.</summary>
    public const string LoadName = "MhcDecoder";

    private readonly MLContext context;
    private readonly Options options;

    /// <summary>Creates the trainer; <paramref name="options"/> are validated. It logs to and seeds from <paramref name="mlContext"/>.</summary>
    /// <param name="mlContext">The caller's context.</param>
    /// <param name="options">All settings.</param>
    public MhcDecoderTrainer(MLContext mlContext, Options options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        context = mlContext;
        this.options = options;
    }

    /// <summary>The options this trainer was created with.</summary>
    public Options TrainerOptions => options;

    /// <summary>
    /// The fitted transformer's schema on <paramref name="inputSchema"/>: the training text column must be
    /// there as text; the transformer then adds <c>GeneratedText</c> (when the prompt column is present)
    /// and the per-row scores used by Evaluate.
    /// </summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (!SchemaShapeColumns.TryFind(inputSchema, options.TextColumnName, out var text))
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The training text column '{options.TextColumnName}' (text) was not found. Available columns: {string.Join(", ", inputSchema.Select(c => $"'{c.Name}'"))}.");
        if (text.ItemType is not TextDataViewType || text.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"The training text column '{options.TextColumnName}' must be a text scalar; found {text.ItemType} ({text.Kind}).");
        // ML.NET keeps SchemaShape column constructors internal: take the shapes from stock estimators whose
        // outputs have them (a copy of a text column is text; a text-to-float conversion is a float scalar).
        var output = inputSchema;
        foreach (var c in TextGenerationColumns.Added(options.TextColumnName, options.PromptColumnName, options.GeneratedTextColumnName,
                     name => SchemaShapeColumns.TryFind(inputSchema, name, out var found) && found.ItemType is TextDataViewType && found.Kind == SchemaShape.Column.VectorKind.Scalar))
        {
            var source = c.Name == options.GeneratedTextColumnName ? options.PromptColumnName : options.TextColumnName;
            output = c.Type is TextDataViewType
                ? context.Transforms.CopyColumns(c.Name, source).GetOutputSchema(output)
                : context.Transforms.Conversion.ConvertType(c.Name, source, DataKind.Single).GetOutputSchema(output);
        }
        return output;
    }

    /// <summary>Builds the vocabulary and trains the decoder on the text column of <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">The text column is missing, not text or empty, or shorter than the context.</exception>
    /// <exception cref="OperationCanceledException">The options' cancellation token fired.</exception>
    public MhcTextGenerationTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        options.Validate();
        using var channel = new TrainerLog(context, LoadName, options.Log);
        var run = options.ForFit<Options>(CatalogEnvironment.ResolveSeed(context, LoadName, options.Seed), channel.Write);
        var log = run.Log;
        var text = ReadText(input, options.TextColumnName, "training");
        var vocabulary = BuildVocabulary(text);
        var trainIds = vocabulary.Encode(text);
        CheckLength(trainIds.Length, "training");
        int[]? validationIds = null;
        if (options.ValidationSet is not null)
        {
            var validationText = ReadText(options.ValidationSet, options.TextColumnName, "validation");
            validationIds = vocabulary.Encode(validationText, out int unknown);
            CheckLength(validationIds.Length, "validation");
            if (unknown > 0) log?.Invoke($"validation text: {unknown} character(s) outside the training vocabulary were mapped or skipped");
        }
        log?.Invoke($"text: {text.Length} characters -> {trainIds.Length} tokens, vocabulary {vocabulary.Description}" +
            (validationIds is null ? "" : $", validation {validationIds.Length} tokens"));

        return TrainingSession.Train(run, channel, () => new HyperDecoderTransformer(run.NetworkOptions(vocabulary.Count)),
            (network, device) => (new TextGenerationTask(network, trainIds, validationIds, run.StepsPerEpoch, run.BatchSize, run.ValidationWindows), null),
            (network, device, history) => new MhcTextGenerationTransformer(context, network, vocabulary, history,
                new TextGenerationColumns(options.TextColumnName, options.PromptColumnName, options.GeneratedTextColumnName),
                options.Generation.Clone()));
    }

    /// <summary>The vocabulary of <paramref name="text"/>: one token per character, or the tokenizer's ids that occur in it.</summary>
    private TextVocabulary BuildVocabulary(string text) => options.Tokenizer is null
        ? CharacterVocabulary.Build(text)
        : TokenizerVocabulary.Build(options.Tokenizer, options.TokenizerName, text);

    private void CheckLength(int tokens, string role)
    {
        if (tokens < options.ContextLength + 2)
            throw new ArgumentException(
                $"ContextLength ({options.ContextLength}) must be shorter than the {role} text, which has {tokens} tokens " +
                $"(windows need ContextLength + 1 tokens). Lower ContextLength or give more text.", nameof(options.ContextLength));
    }

    /// <summary>All rows of a text column joined with <see cref="TextVocabulary.Separator"/>.</summary>
    internal static string ReadText(IDataView data, string columnName, string role)
    {
        var column = ColumnChecks.Require(data.Schema, columnName, $"{role} text", "text");
        if (column.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(columnName), $"The {role} text column '{columnName}' must be text; found {column.Type}.");
        var sb = new StringBuilder();
        long rows = 0;
        using (var cursor = data.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                if (rows++ > 0) sb.Append(TextVocabulary.Separator);
                sb.Append(value.Span);
            }
        }
        if (sb.Length - (rows > 0 ? rows - 1 : 0) * TextVocabulary.Separator.Length == 0)
            throw new ArgumentException($"The {role} text column '{columnName}' holds no text ({rows} row(s), all empty).", nameof(data));
        return sb.ToString();
    }
}
