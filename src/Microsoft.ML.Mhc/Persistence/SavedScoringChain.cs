using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// Building blocks of the form in which mHC transformers are saved: a chain of stock ML.NET transforms
/// that ML.NET itself can save and load, with the network travelling inside it.
/// </summary>
/// <remarks>
/// ML.NET 5 gives other assemblies no public way to register a loader for their own transformer, so
/// a trained mHC transformer saves itself as:
/// <list type="number">
/// <item>the stock transforms that turn the user's input column into the network input;</item>
/// <item>the scoring segment (<see cref="ScoringSegment"/>), one nested chain that adds exactly the columns of the task's
/// in-memory scorer: <see cref="NetworkLookup"/> (a <see cref="NetworkKeyMapping"/> custom mapping that emits a constant key,
/// and a <c>MapValue</c> whose only lookup value is the <see cref="SerializedNetwork"/>, which puts the network into the
/// model file, plus the scoring settings); a task's scoring custom mapping (registered with
/// <c>[CustomMappingFactoryAttribute]</c>, which ML.NET finds again by itself on load) that decodes the network once through
/// a <see cref="LoadedNetworkCache{TNetwork}"/> and writes a fixed-width output; <see cref="Trim"/>, a count-based slot
/// selection that cuts the fixed width down to the real one; for a classifier <see cref="KeyFromIndex"/>, <c>MapValue</c> +
/// <c>MapValueToKey</c> with key data, which restores the predicted label's key type and values; and a drop of the
/// segment's own temporary columns;</item>
/// <item>the task's stock steps after scoring, then a <c>DropColumns</c> of everything temporary (<see cref="TempPrefix"/>).</item>
/// </list>
/// </remarks>
internal static class SavedScoringChain
{
    /// <summary>Prefix of every temporary column of a saved chain.</summary>
    public const string TempPrefix = "__mhc_";

    /// <summary>The constant key column.</summary>
    public const string KeyColumn = TempPrefix + "network_key";

    /// <summary>The column carrying the serialized network.</summary>
    public const string NetworkColumn = TempPrefix + "network";

    /// <summary>Emits the network column: the constant key mapped to <paramref name="encodedNetwork"/>.</summary>
    internal static IEstimator<ITransformer> NetworkLookup(MLContext ml, string encodedNetwork)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentException.ThrowIfNullOrEmpty(encodedNetwork);
        var lookup = new[] { new KeyValuePair<ReadOnlyMemory<char>, ReadOnlyMemory<char>>(NetworkKeyMapping.Key.AsMemory(), encodedNetwork.AsMemory()) };
        return ml.Transforms.CustomMapping<NetworkKeyInput, NetworkKeyOutput>(NetworkKeyMapping.Map, NetworkKeyMapping.ContractName)
            .Append(ml.Transforms.Conversion.MapValue(NetworkColumn, lookup, KeyColumn));
    }

    /// <summary>
    /// A fitted transform keeping the first <paramref name="keep"/> of <paramref name="width"/> slots of a
    /// float vector column (a count-based feature selection fitted on one crafted row, which saves and
    /// loads as a stock slot-dropping transform).
    /// </summary>
    internal static ITransformer Trim(MLContext ml, string outputColumn, string inputColumn, int width, int keep)
    {
        ArgumentNullException.ThrowIfNull(ml);
        if (keep < 1 || keep > width) throw new ArgumentOutOfRangeException(nameof(keep), keep, $"Must be in [1, {width}].");
        var values = new float[width];
        Array.Fill(values, 1f, 0, keep);
        var definition = SchemaDefinition.Create(typeof(VectorRow));
        definition[0].ColumnName = inputColumn;
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        var data = ml.Data.LoadFromEnumerable(new[] { new VectorRow { Values = values } }, definition);
        return ml.Transforms.FeatureSelection.SelectFeaturesBasedOnCount(outputColumn, inputColumn, count: 1).Fit(data);
    }

    /// <summary>
    /// Maps a 0-based class index (a <see cref="uint"/> column) to a key column with the same key values as
    /// the training label, so that <c>MapKeyToValue</c> and <c>Evaluate</c> work on a loaded model.
    /// </summary>
    internal static IEstimator<ITransformer> KeyFromIndex(MLContext ml, string outputColumn, string indexColumn, KeyColumnInfo keys)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(keys);
        var method = typeof(SavedScoringChain).GetMethod(nameof(KeyFromIndexOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(keys.ValueType.RawType);
        return (IEstimator<ITransformer>)method.Invoke(null, [ml, outputColumn, indexColumn, keys.Values])!;
    }

    private static IEstimator<ITransformer> KeyFromIndexOf<T>(MLContext ml, string outputColumn, string indexColumn, Array values)
    {
        var typed = (T[])values;
        var valueColumn = TempPrefix + "predicted_value";
        var lookup = typed.Select((v, i) => new KeyValuePair<uint, T>((uint)i, v)).ToList();
        // Index K (one past the last class) marks a row that could not be classified (NaN scores): it maps to a value
        // that is no class, which MapValueToKey turns into ML.NET's missing key 0.
        if (MissingValue.TryFind(typed, out T? missing)) lookup.Add(new KeyValuePair<uint, T>((uint)typed.Length, missing!));
        var keyData = ml.Data.LoadFromEnumerable(typed.Select(v => new ValueRow<T> { Value = v }).ToArray());
        return ml.Transforms.Conversion.MapValue(valueColumn, lookup.ToArray(), indexColumn)
            .Append(ml.Transforms.Conversion.MapValueToKey(outputColumn, valueColumn, keyData: keyData));
    }

    /// <summary>Removes every temporary column (<see cref="TempPrefix"/>) that <paramref name="schema"/> has.</summary>
    internal static IEstimator<ITransformer> DropTemporaries(MLContext ml, DataViewSchema schema) =>
        ml.Transforms.DropColumns(schema.Select(c => c.Name).Where(n => n.StartsWith(TempPrefix, StringComparison.Ordinal)).Distinct().ToArray());

    /// <summary>
    /// Fits the estimator parts on the schema alone (no data is read) and chains them with the already
    /// fitted parts, in order; a final <see cref="DropTemporaries"/> is added.
    /// </summary>
    /// <param name="ml">The context.</param>
    /// <param name="inputSchema">The schema the chain will be applied to.</param>
    /// <param name="parts">Each an <see cref="ITransformer"/>, an <see cref="IEstimator{TTransformer}"/>, or a function building a
    /// transformer for the schema it will see.</param>
    internal static TransformerChain<ITransformer> Compose(MLContext ml, DataViewSchema inputSchema, params object[] parts)
    {
        var transformers = new List<ITransformer>();
        var schema = inputSchema;
        foreach (var part in parts.Append(null))
        {
            var transformer = part switch
            {
                ITransformer t => t,
                IEstimator<ITransformer> e => e.Fit(new SchemaOnlyDataView(schema)),
                Func<DataViewSchema, ITransformer> build => build(schema),
                null => DropTemporaries(ml, schema).Fit(new SchemaOnlyDataView(schema)),
                _ => throw new ArgumentException($"Chain parts must be transformers, estimators or transformer builders; got {part.GetType()}.", nameof(parts)),
            };
            transformers.Add(transformer);
            schema = transformer.GetOutputSchema(schema);
        }
        return new TransformerChain<ITransformer>(transformers.ToArray());
    }

    /// <summary>A one-column row for <see cref="Trim"/>; public for ML.NET's row binding.</summary>
    public sealed class VectorRow
    {
        /// <summary>The vector.</summary>
        public float[] Values = [];
    }

    /// <summary>A one-column row of key data; public for ML.NET's row binding.</summary>
    /// <typeparam name="T">The key value type.</typeparam>
    public sealed class ValueRow<T>
    {
        /// <summary>The value.</summary>
        public T? Value;
    }
}
