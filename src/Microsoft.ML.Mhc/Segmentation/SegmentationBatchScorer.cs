using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.Segmentation;

/// <summary>
/// The segmentation model's scoring step, in memory and in a loaded model alike: class ids per pixel (as floats, see
/// <see cref="MhcSegmentationTransformer.MaskToClassIds"/>) and, when asked for, class probabilities, for a batch of rows.
/// </summary>
internal sealed class SegmentationBatchScorer(SegmentationEngine engine, IReadOnlyList<ScoredColumn> columns, int batchSize, string imageColumn)
    : IBatchScorer
{
    public string InputColumn => ScoringSegment.FeaturesColumn;
    public int InputLength => engine.InputLength;
    public int BatchSize => batchSize;
    public IReadOnlyList<ScoredColumn> Columns => columns;

    public void Score(ReadOnlySpan<float> inputs, int count, ScoredBatch outputs) =>
        engine.Predict(inputs, count, outputs.Floats(0), columns.Count > 1 ? outputs.Floats(1) : Span<float>.Empty, imageColumn);

    /// <summary>The mask column (<see cref="SegmentationScoringMappings.MaskColumn"/>) and, when named, the probabilities column.</summary>
    public static ScoredColumn[] OutputColumns(SegmentationEngine engine, string? probabilitiesColumnName)
    {
        var mask = new ScoredColumn(SegmentationScoringMappings.MaskColumn, new VectorDataViewType(NumberDataViewType.Single, engine.PixelCount), null);
        return probabilitiesColumnName is null
            ? [mask]
            : [mask, new ScoredColumn(probabilitiesColumnName, new VectorDataViewType(NumberDataViewType.Single, engine.Classes * engine.PixelCount), null)];
    }

    /// <summary>Finds the segmentation model's saved segments in a loaded model and scores them in batches again.</summary>
    internal sealed class Loading : LoadedBatchScoring
    {
        public override Type MappingInput => typeof(SegmentationScoringInput);

        // A loaded model does not know the image column's name; the stock mapping reports "image" too.
        public override IBatchScorer CreateScorer(ReadOnlyMemory<char> network, DataViewSchema stockOutput, IReadOnlyList<DataViewSchema.Column> columns, int batchSize)
        {
            var engine = SegmentationScoringMappings.Engines.Get(network);
            return new SegmentationBatchScorer(engine, OutputColumns(engine, columns.Count > 1 ? columns[1].Name : null), batchSize, "image");
        }
    }
}
