using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.ImageClassification;

/// <summary>
/// The image classifier's scoring step, in memory and in a loaded model alike: <c>Score</c> (probabilities, slot names =
/// class names) and <c>PredictedLabel</c> (a key with the training label's values) for a batch of rows.
/// </summary>
internal sealed class ImageBatchScorer(ImageClassifierEngine engine, IReadOnlyList<ScoredColumn> columns, int batchSize) : IBatchScorer
{
    public string InputColumn => ScoringSegment.FeaturesColumn;
    public int InputLength => engine.InputLength;
    public int BatchSize => batchSize;
    public IReadOnlyList<ScoredColumn> Columns => columns;

    public void Score(ReadOnlySpan<float> inputs, int count, ScoredBatch outputs)
    {
        var probabilities = outputs.Floats(0);
        engine.Probabilities(inputs, count, probabilities);
        var keys = outputs.Keys(1);
        int classes = engine.Classes;
        // Keys are 1-based; 0 is ML.NET's missing key, for rows whose scores are NaN.
        for (int i = 0; i < count; i++)
            keys[i] = (uint)(ImageClassifierEngine.ArgMax(probabilities.AsSpan(i * classes, classes)) + 1);
    }

    /// <summary>The Score and PredictedLabel columns for the classes of <paramref name="label"/>.</summary>
    public static ScoredColumn[] OutputColumns(string scoreName, string predictedName, KeyColumnInfo label)
    {
        int classes = label.Count;
        var slotNames = label.Names.Select(n => n.AsMemory()).ToArray();
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> getSlotNames = (ref VBuffer<ReadOnlyMemory<char>> dst) =>
            dst = new VBuffer<ReadOnlyMemory<char>>(classes, (ReadOnlyMemory<char>[])slotNames.Clone());
        scoreAnnotations.Add(AnnotationKinds.SlotNames, new VectorDataViewType(TextDataViewType.Instance, classes), getSlotNames);
        return
        [
            new ScoredColumn(scoreName, new VectorDataViewType(NumberDataViewType.Single, classes), scoreAnnotations.ToAnnotations()),
            new ScoredColumn(predictedName, label.KeyType, label.Annotations),
        ];
    }

    /// <summary>Finds the classifier's saved segments in a loaded model and scores them in batches again.</summary>
    internal sealed class Loading : LoadedBatchScoring
    {
        public override Type MappingInput => typeof(ImageScoringInput);

        public override IBatchScorer CreateScorer(ReadOnlyMemory<char> network, DataViewSchema stockOutput, IReadOnlyList<DataViewSchema.Column> columns, int batchSize)
        {
            var score = columns.Single(c => c.Type is VectorDataViewType);
            var predicted = columns.Single(c => c.Type is KeyDataViewType);
            var label = KeyColumnInfo.FromSchema(stockOutput, predicted.Name, "predicted label");
            return new ImageBatchScorer(ImageScoringMappings.Engines.Get(network), OutputColumns(score.Name, predicted.Name, label), batchSize);
        }
    }
}
