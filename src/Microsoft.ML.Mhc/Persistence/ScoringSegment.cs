using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// The one scoring contract of an mHC transformer: a scoring step adds the task's columns to its input. In memory the
/// step is a lazy view (image and segmentation: the task's <see cref="IBatchScorer"/> in batches,
/// <see cref="BatchedScoringDataView"/>; text: the generator, <see cref="TextGeneration.TextGenerationDataView"/>); the
/// saved form holds the same step as one nested chain of stock transforms (network lookup with the scoring settings, the
/// task's custom mapping, copies or trims, ...) that adds the same columns, so a loaded model can swap the step back in
/// (<see cref="WithScoringSteps"/>) and score with the same columns, slot names and batching.
/// </summary>
internal static class ScoringSegment
{
    /// <summary>The network input column the scoring step reads (raw values, C x H x W).</summary>
    public const string FeaturesColumn = SavedScoringChain.TempPrefix + "features";

    /// <summary>The scoring settings a saved segment carries (JSON), next to the network.</summary>
    public const string SettingsColumn = SavedScoringChain.TempPrefix + "scoring_settings";

    private static readonly ILoadedScoring[] Kinds =
        [new ImageClassification.ImageBatchScorer.Loading(), new Segmentation.SegmentationBatchScorer.Loading(), new TextGeneration.TextGenerationScoring()];

    /// <summary>Adds the scorer's columns to <paramref name="input"/> (which has <see cref="FeaturesColumn"/>), in batches.</summary>
    public static IDataView Score(IDataView input, IBatchScorer scorer) => new BatchedScoringDataView(input, scorer);

    /// <summary>
    /// The saved form of the scoring step: the network lookup (with the scoring batch size), the fixed-width mapping and
    /// the stock steps after it, then a drop of every temporary column they made that is not one of the scorer's columns.
    /// </summary>
    public static TransformerChain<ITransformer> Saved(MLContext ml, DataViewSchema input, string encodedNetwork, int batchSize,
        IReadOnlyList<ScoredColumn> outputs, params object[] steps) =>
        Saved(ml, input, encodedNetwork, batchSize, outputs.Select(c => c.Name).ToArray(), steps);

    /// <summary>The saved form of a scoring step that adds the columns named <paramref name="outputs"/>.</summary>
    public static TransformerChain<ITransformer> Saved(MLContext ml, DataViewSchema input, string encodedNetwork, int batchSize,
        IReadOnlyList<string> outputs, params object[] steps)
    {
        var settings = new ScoringSettings { BatchSize = batchSize, Columns = outputs.ToArray() }.ToJson();
        var parts = new List<ITransformer>();
        var schema = input;
        foreach (var part in steps.Prepend(NetworkLookup(ml, encodedNetwork, settings)))
        {
            var transformer = part as ITransformer ?? ((IEstimator<ITransformer>)part).Fit(new SchemaOnlyDataView(schema));
            parts.Add(transformer);
            schema = transformer.GetOutputSchema(schema);
        }
        var keep = outputs.Concat(input.Select(c => c.Name)).ToHashSet(StringComparer.Ordinal);
        var made = schema.Select(c => c.Name).Where(n => n.StartsWith(SavedScoringChain.TempPrefix, StringComparison.Ordinal) && !keep.Contains(n)).Distinct().ToArray();
        parts.Add(ml.Transforms.DropColumns(made).Fit(new SchemaOnlyDataView(schema)));
        return new TransformerChain<ITransformer>(parts.ToArray());
    }

    private static IEstimator<ITransformer> NetworkLookup(MLContext ml, string encodedNetwork, string settings)
    {
        var lookup = new[] { new KeyValuePair<ReadOnlyMemory<char>, ReadOnlyMemory<char>>(NetworkKeyMapping.Key.AsMemory(), settings.AsMemory()) };
        return SavedScoringChain.NetworkLookup(ml, encodedNetwork)
            .Append(ml.Transforms.Conversion.MapValue(SettingsColumn, lookup, SavedScoringChain.KeyColumn));
    }

    /// <summary>
    /// <paramref name="model"/> with every saved scoring segment in it (nested chains included) replaced by its task's
    /// in-memory scoring step; the model itself when it has none (e.g. it was saved before segments carried their settings).
    /// </summary>
    public static ITransformer WithScoringSteps(ITransformer model)
    {
        if (model is not IEnumerable<ITransformer> chain) return model;
        var parts = chain.ToList();
        if (Find(parts) is { Settings: { } json } segment)
            return new LoadedSegment(new TransformerChain<ITransformer>(parts.ToArray()), segment.Kind, segment.Network, ScoringSettings.FromJson(json));
        var rebuilt = parts.Select(WithScoringSteps).ToArray();
        return rebuilt.Where((p, i) => !ReferenceEquals(p, parts[i])).Any() ? new TransformerChain<ITransformer>(rebuilt) : model;
    }

    /// <summary>
    /// The networks of the saved segments of the task whose mapping reads <paramref name="mappingInput"/> in
    /// <paramref name="model"/> (nested chains included), found by the chain's structure: a network lookup first, the
    /// task's custom mapping after it.
    /// </summary>
    public static IEnumerable<ReadOnlyMemory<char>> Networks(ITransformer model, Type mappingInput)
    {
        if (model is not IEnumerable<ITransformer> chain) yield break;
        var parts = chain.ToList();
        if (Find(parts, mappingInput) is { } segment)
        {
            yield return segment.Network;
            yield break;
        }
        foreach (var part in parts)
            foreach (var network in Networks(part, mappingInput))
                yield return network;
    }

    // A saved segment: its network lookup comes first (it reads no input column), the task's custom mapping after it.
    private static (ILoadedScoring Kind, ReadOnlyMemory<char> Network, string? Settings)? Find(IReadOnlyList<ITransformer> parts, Type? mappingInput = null)
    {
        if (parts.Count < 2 || parts[0] is not IEnumerable<ITransformer> lookup) return null;
        var kind = parts.Skip(1).Select(MappingInputOf).OfType<Type>().Where(t => mappingInput is null || t == mappingInput)
            .Select(t => Kinds.FirstOrDefault(k => k.MappingInput == t)).FirstOrDefault(k => k is not null);
        if (kind is null || LookupValues(lookup) is not { } values) return null;
        return (kind, values.Network, values.Settings);
    }

    private static Type? MappingInputOf(ITransformer part) =>
        part.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(CustomMappingTransformer<,>) ? t.GetGenericArguments()[0] : null;

    // The network blob and the settings (null in segments saved before they carried them) the lookup emits for any row.
    private static (ReadOnlyMemory<char> Network, string? Settings)? LookupValues(IEnumerable<ITransformer> lookup)
    {
        var ml = new MLContext();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new SavedNetworks.EmptyRow() });
        foreach (var part in lookup) data = part.Transform(data);
        if (data.Schema.GetColumnOrNull(SavedScoringChain.NetworkColumn) is not { Type: TextDataViewType } network) return null;
        var settings = data.Schema.GetColumnOrNull(SettingsColumn) is { Type: TextDataViewType } s ? s : (DataViewSchema.Column?)null;
        using var cursor = data.GetRowCursor(settings is { } c ? [network, c] : [network]);
        if (!cursor.MoveNext()) return null;
        ReadOnlyMemory<char> blob = default, json = default;
        cursor.GetGetter<ReadOnlyMemory<char>>(network)(ref blob);
        if (settings is { } column) cursor.GetGetter<ReadOnlyMemory<char>>(column)(ref json);
        return (blob, settings is null ? null : json.ToString());
    }

    /// <summary>A loaded segment running its task's in-memory scoring step; it stands in for the stock segment and adds the same columns.</summary>
    private sealed class LoadedSegment(TransformerChain<ITransformer> stock, ILoadedScoring kind, ReadOnlyMemory<char> network, ScoringSettings settings)
        : ITransformer
    {
        public bool IsRowToRowMapper => false;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Step(inputSchema)(new SchemaOnlyDataView(inputSchema)).Schema;

        public IDataView Transform(IDataView input) => Step(input.Schema)(input);

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)stock).GetRowToRowMapper(inputSchema);

        void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)stock).Save(ctx);

        private Func<IDataView, IDataView> Step(DataViewSchema inputSchema) => kind.CreateStep(network, stock, inputSchema, settings);
    }
}

/// <summary>A task whose saved scoring segment a loaded model can run through the task's in-memory scoring step again.</summary>
internal interface ILoadedScoring
{
    /// <summary>The input row type of the task's scoring custom mapping, which identifies its segments.</summary>
    Type MappingInput { get; }

    /// <summary>
    /// The task's scoring step for the decoded <paramref name="network"/> on <paramref name="inputSchema"/>, adding the
    /// columns the <paramref name="stock"/> segment adds (<see cref="ScoringSettings.Columns"/>).
    /// </summary>
    Func<IDataView, IDataView> CreateStep(ReadOnlyMemory<char> network, ITransformer stock, DataViewSchema inputSchema, ScoringSettings settings);
}

/// <summary>A task whose scoring step is an <see cref="IBatchScorer"/> run in batches (<see cref="BatchedScoringDataView"/>).</summary>
internal abstract class LoadedBatchScoring : ILoadedScoring
{
    /// <inheritdoc />
    public abstract Type MappingInput { get; }

    /// <summary>
    /// The task's scorer for the decoded <paramref name="network"/>, adding <paramref name="columns"/> of
    /// <paramref name="stockOutput"/> (the stock segment's output schema).
    /// </summary>
    public abstract IBatchScorer CreateScorer(ReadOnlyMemory<char> network, DataViewSchema stockOutput, IReadOnlyList<DataViewSchema.Column> columns, int batchSize);

    // The scorer's columns are the ones the stock segment adds, with the annotations only the scorer can give.
    public Func<IDataView, IDataView> CreateStep(ReadOnlyMemory<char> network, ITransformer stock, DataViewSchema inputSchema, ScoringSettings settings)
    {
        var stockOutput = stock.GetOutputSchema(inputSchema);
        var scorer = CreateScorer(network, stockOutput, settings.Columns.Select(name => stockOutput[name]).ToList(), settings.BatchSize);
        return input => ScoringSegment.Score(input, scorer);
    }
}
