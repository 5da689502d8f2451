using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;

namespace Microsoft.ML.Mhc.Tests;

public sealed class BatchedScoringDataViewTests
{
    private sealed class SumScorer(int batchSize) : IBatchScorer
    {
        public int Calls;
        public string InputColumn => "X";
        public int InputLength => 2;
        public int BatchSize => batchSize;
        public IReadOnlyList<ScoredColumn> Columns { get; } =
        [
            new("Sum", NumberDataViewType.Single, null),
            new("Both", new VectorDataViewType(NumberDataViewType.Single, 2), null),
            new("Key", new KeyDataViewType(typeof(uint), 100), null),
        ];

        public void Score(ReadOnlySpan<float> inputs, int count, ScoredBatch outputs)
        {
            Interlocked.Increment(ref Calls);
            for (int i = 0; i < count; i++)
            {
                outputs.Floats(0)[i] = inputs[2 * i] + inputs[2 * i + 1];
                outputs.Floats(1)[2 * i] = inputs[2 * i] * 10;
                outputs.Floats(1)[2 * i + 1] = inputs[2 * i + 1] * 10;
                outputs.Keys(2)[i] = (uint)inputs[2 * i] + 1;
            }
        }
    }

    public sealed class Row
    {
        [VectorType(2)]
        public float[] X { get; set; } = [];

        public string Name { get; set; } = "";
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(64)]
    public void ScoresLineUpWithRowsForAnyBatchSize(int batchSize)
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 10).Select(i => new Row { X = [i, 100 + i], Name = $"r{i}" }).ToList();
        var scorer = new SumScorer(batchSize);
        var view = new BatchedScoringDataView(ml.Data.LoadFromEnumerable(rows), scorer);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 100f + 2 * i), view.GetColumn<float>("Sum"));
        Assert.Equal(rows.Select(r => r.Name), view.GetColumn<string>("Name"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (uint)i + 1), view.GetColumn<uint>("Key"));
        Assert.Equal(rows.Select(r => new[] { r.X[0] * 10, r.X[1] * 10 }), view.GetColumn<float[]>("Both"));
        Assert.Equal((10 + batchSize - 1) / batchSize * 3, scorer.Calls);
    }

    [Fact]
    public void PassThroughOnlyDoesNotScore()
    {
        var ml = new MLContext(1);
        var scorer = new SumScorer(4);
        var view = new BatchedScoringDataView(ml.Data.LoadFromEnumerable(new[] { new Row { X = [1, 2], Name = "a" } }), scorer);
        Assert.Equal(["a"], view.GetColumn<string>("Name"));
        Assert.Equal(0, scorer.Calls);
        Assert.Equal(1, view.GetRowCount());
    }
}
