using Microsoft.ML.Data;
using Mhc.Models.Layers;
using Microsoft.ML.Mhc.DataViews;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>Text generation with hyper-connection decoders: <c>mlContext.TextGeneration()</c>.</summary>
public sealed class TextGenerationCatalog
{
    private readonly MLContext context;

    internal TextGenerationCatalog(MLContext context)
    {
        this.context = context;
        Trainers = new TextGenerationTrainers(context);
    }

    /// <summary>The trainers.</summary>
    public TextGenerationTrainers Trainers { get; }

    /// <summary>
    /// Metrics of data scored by a text-generation model (<c>model.Transform(data)</c> on data with the
    /// text column): the per-row <c>NegativeLogLikelihood</c> and <c>PredictedTokens</c> summed over rows,
    /// per character of <paramref name="textColumnName"/>. Each row is scored as one document.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    public TextGenerationMetrics Evaluate(IDataView data, string textColumnName = DefaultColumnNames.Text)
    {
        ArgumentNullException.ThrowIfNull(data);
        var text = ColumnChecks.Require(data.Schema, textColumnName, "text", "text");
        if (text.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(textColumnName), $"The text column '{textColumnName}' must be text; found {text.Type}.");
        const string scored = "a float written by a text-generation model's Transform (apply the model to data with the text column first)";
        var nll = ColumnChecks.Require(data.Schema, DefaultColumnNames.NegativeLogLikelihood, "negative log-likelihood", scored);
        var count = ColumnChecks.Require(data.Schema, DefaultColumnNames.PredictedTokens, "predicted-token count", scored);
        double nats = 0;
        long tokens = 0, characters = 0;
        using (var cursor = data.GetRowCursor([text, nll, count]))
        {
            var getText = cursor.GetGetter<ReadOnlyMemory<char>>(text);
            var getNll = cursor.GetGetter<float>(nll);
            var getCount = cursor.GetGetter<float>(count);
            ReadOnlyMemory<char> value = default;
            float n = 0, c = 0;
            while (cursor.MoveNext())
            {
                getText(ref value);
                getNll(ref n);
                getCount(ref c);
                nats += n;
                tokens += (long)c;
                characters += TextGenerator.CountCharacters(value.ToString());
            }
        }
        if (tokens == 0)
            throw new ArgumentException($"The text column '{textColumnName}' has no token to predict (empty data or empty rows).", nameof(data));
        return new TextGenerationMetrics(nats, tokens, characters);
    }

    /// <summary>
    /// Metrics of <paramref name="model"/> (trained in this process or loaded from a file) on the rows of
    /// <paramref name="textColumnName"/>, each scored as one document.
    /// </summary>
    public TextGenerationMetrics Evaluate(ITransformer model, IDataView data, string textColumnName = DefaultColumnNames.Text) =>
        CreateGenerator(model).Evaluate(data, textColumnName);

    /// <summary>
    /// Direct generation and scoring for <paramref name="model"/>: a fitted <see cref="MhcTextGenerationTransformer"/>,
    /// a pipeline containing one, or a model loaded with <c>mlContext.Model.Load</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The model holds no text-generation network.</exception>
    public TextGenerator CreateGenerator(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return TextGenerationModelFile.Find(model)
            ?? throw new ArgumentException($"The model ({model.GetType().Name}) holds no mHC text-generation network.", nameof(model));
    }
}

/// <summary>The text-generation trainers: <c>mlContext.TextGeneration().Trainers</c>.</summary>
public sealed class TextGenerationTrainers
{
    private readonly MLContext context;

    internal TextGenerationTrainers(MLContext context) => this.context = context;

    /// <summary>A decoder-only transformer with hyper-connections trained on a text column, configured in full.</summary>
    public MhcDecoderTrainer MhcDecoder(MhcDecoderTrainer.Options options) => new(context, options);

    /// <summary>A decoder-only transformer with hyper-connections trained on a text column, with the common settings.</summary>
    /// <param name="textColumnName">The training text column.</param>
    /// <param name="contextLength">Tokens the model sees at once.</param>
    /// <param name="layers">Transformer blocks.</param>
    /// <param name="dim">Model width.</param>
    /// <param name="connection">Residual, Hc or Mhc.</param>
    /// <param name="expansionRate">Residual streams n (ignored for Residual).</param>
    /// <param name="maxEpochs">Epochs of <see cref="MhcDecoderTrainer.Options.StepsPerEpoch"/> steps.</param>
    public MhcDecoderTrainer MhcDecoder(string textColumnName = DefaultColumnNames.Text, int contextLength = 128, int layers = 4, int dim = 192,
        ConnectionKind connection = ConnectionKind.Mhc, int expansionRate = 4, int maxEpochs = 10) =>
        new(context, new MhcDecoderTrainer.Options
        {
            TextColumnName = textColumnName,
            ContextLength = contextLength,
            Layers = layers,
            Dim = dim,
            Connection = connection,
            ExpansionRate = expansionRate,
            MaxEpochs = maxEpochs,
        });
}
