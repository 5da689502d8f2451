using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// The one scoring contract of an mHC transformer: the network input column (<see cref="FeaturesColumn"/>) goes in, the
/// columns of the task's <see cref="IBatchScorer"/> come out. In memory the scorer runs in batches
/// (<see cref="BatchedScoringDataView"/>); the saved form holds the same step as one nested chain of stock transforms
/// (network lookup, fixed-width custom mapping, trims, ...) that adds exactly the same columns, so a loaded model can
/// swap the scorer back in (<see cref="Rebatch"/>) and score with the same columns, slot names and batching.
/// </summary>
internal static class ScoringSegment
{
    /// <summary>The network input column the scoring step reads (raw values, C x H x W).</summary>
    public const string FeaturesColumn = SavedScoringChain.TempPrefix + "features";

    /// <summary>The scoring settings a saved segment carries (JSON), next to the network.</summary>
    public const string SettingsColumn = SavedScoringChain.TempPrefix + "scoring_settings";

    private static readonly ILoadedScoring[] Kinds = [new ImageClassification.ImageBatchScorer.Loading(), new Segmentation.SegmentationBatchScorer.Loading()];

    /// <summary>Adds the scorer's columns to <paramref name="input"/> (which has <see cref="FeaturesColumn"/>), in batches.</summary>
    public static IDataView Score(IDataView input, IBatchScorer scorer) => new BatchedScoringDataView(input, scorer);

    /// <summary>
    /// The saved form of the scoring step: the network lookup (with the scoring batch size), the fixed-width mapping and
    /// the stock steps after it, then a drop of every temporary column they made that is not one of the scorer's columns.
    /// </summary>
    public static TransformerChain<ITransformer> Saved(MLContext ml, DataViewSchema input, string encodedNetwork, int batchSize,
        IReadOnlyList<ScoredColumn> outputs, params object[] steps)
    {
        var settings = new ScoringSettings { BatchSize = batchSize, Columns = outputs.Select(c => c.Name).ToArray() }.ToJson();
        var parts = new List<ITransformer>();
        var schema = input;
        foreach (var part in steps.Prepend(NetworkLookup(ml, encodedNetwork, settings)))
        {
            var transformer = part as ITransformer ?? ((IEstimator<ITransformer>)part).Fit(new SchemaOnlyDataView(schema));
            parts.Add(transformer);
            schema = transformer.GetOutputSchema(schema);
        }
        var keep = outputs.Select(c => c.Name).Concat(input.Select(c => c.Name)).ToHashSet(StringComparer.Ordinal);
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
    /// <paramref name="model"/> with every saved scoring segment in it (nested chains included) replaced by its batched
    /// scorer; the model itself when it has none (e.g. it was saved before segments carried their settings).
    /// </summary>
    public static ITransformer Rebatch(ITransformer model)
    {
        if (model is not IEnumerable<ITransformer> chain) return model;
        var parts = chain.ToList();
        if (TryBatched(parts) is { } batched) return batched;
        var rebuilt = parts.Select(Rebatch).ToArray();
        return rebuilt.Where((p, i) => !ReferenceEquals(p, parts[i])).Any() ? new TransformerChain<ITransformer>(rebuilt) : model;
    }

    private static ITransformer? TryBatched(IReadOnlyList<ITransformer> parts)
    {
        if (parts.Count < 3 || parts[0] is not IEnumerable<ITransformer> lookup) return null;
        var kind = parts[1].GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(CustomMappingTransformer<,>)
            ? FindKind(t.GetGenericArguments()[0]) : null;
        if (kind is null || LookupValues(lookup) is not { } values) return null;
        return new BatchedSegment(new TransformerChain<ITransformer>(parts.ToArray()), kind, values.Network, ScoringSettings.FromJson(values.Settings));
    }

    private static ILoadedScoring? FindKind(Type mappingInput) => Kinds.FirstOrDefault(k => k.MappingInput == mappingInput);

    // The network blob and the settings the lookup emits for any row.
    private static (ReadOnlyMemory<char> Network, string Settings)? LookupValues(IEnumerable<ITransformer> lookup)
    {
        var ml = new MLContext();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new SavedNetworks.EmptyRow() });
        foreach (var part in lookup) data = part.Transform(data);
        if (data.Schema.GetColumnOrNull(SavedScoringChain.NetworkColumn) is not { Type: TextDataViewType } network
            || data.Schema.GetColumnOrNull(SettingsColumn) is not { Type: TextDataViewType } settings) return null;
        using var cursor = data.GetRowCursor([network, settings]);
        if (!cursor.MoveNext()) return null;
        ReadOnlyMemory<char> blob = default, json = default;
        cursor.GetGetter<ReadOnlyMemory<char>>(network)(ref blob);
        cursor.GetGetter<ReadOnlyMemory<char>>(settings)(ref json);
        return (blob, json.ToString());
    }

    /// <summary>A loaded segment scoring in batches; it stands in for the stock segment and adds the same columns.</summary>
    private sealed class BatchedSegment(TransformerChain<ITransformer> stock, ILoadedScoring kind, ReadOnlyMemory<char> network, ScoringSettings settings)
        : ITransformer
    {
        public bool IsRowToRowMapper => false;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Scored(inputSchema).Schema;

        public IDataView Transform(IDataView input) => Score(input, Scorer(input.Schema));

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)stock).GetRowToRowMapper(inputSchema);

        void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)stock).Save(ctx);

        private BatchedScoringDataView Scored(DataViewSchema inputSchema) => new(new SchemaOnlyDataView(inputSchema), Scorer(inputSchema));

        // The scorer's columns are the ones the stock segment adds, with the annotations only the scorer can give.
        private IBatchScorer Scorer(DataViewSchema inputSchema)
        {
            var stockOutput = stock.GetOutputSchema(inputSchema);
            var added = settings.Columns.Select(name => stockOutput[name]).ToList();
            return kind.CreateScorer(network, stockOutput, added, settings.BatchSize);
        }
    }
}

/// <summary>A task whose saved scoring segment a loaded model can run in batches again.</summary>
internal interface ILoadedScoring
{
    /// <summary>The input row type of the task's fixed-width scoring mapping, which identifies its segments.</summary>
    Type MappingInput { get; }

    /// <summary>
    /// The task's scorer for the decoded <paramref name="network"/>, adding <paramref name="columns"/> of
    /// <paramref name="stockOutput"/> (the stock segment's output schema).
    /// </summary>
    IBatchScorer CreateScorer(ReadOnlyMemory<char> network, DataViewSchema stockOutput, IReadOnlyList<DataViewSchema.Column> columns, int batchSize);
}
