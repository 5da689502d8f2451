using Mhc.Models;
using Microsoft.ML;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>One trained tiny classifier shared by the tests that only read it (training is the slow part).</summary>
public sealed class ImageClassifierFixture : IDisposable
{
    public ImageClassifierFixture()
    {
        MhcEnvironment.EnsureTorch();
        Ml = new MLContext(seed: 1);
        TrainRows = TestData.Bars(30, seed: 1);
        TestRows = TestData.Bars(10, seed: 2);
        Train = Ml.Data.LoadFromEnumerable(TrainRows);
        Test = Ml.Data.LoadFromEnumerable(TestRows);
        var options = TestData.TinyOptions();
        options.EpochCallback = r => Reports.Add(r);
        Model = TestData.Pipeline(Ml, options).Fit(Train);
    }

    public MLContext Ml { get; }
    public List<BarImage> TrainRows { get; }
    public List<BarImage> TestRows { get; }
    public IDataView Train { get; }
    public IDataView Test { get; }
    public ITransformer Model { get; }
    public List<Training.MhcEpochReport> Reports { get; } = [];

    public ImageClassification.MhcImageClassificationTransformer Classifier =>
        ((IEnumerable<ITransformer>)Model).OfType<ImageClassification.MhcImageClassificationTransformer>().Single();

    public void Dispose() => Classifier.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ClassifierCollection : ICollectionFixture<ImageClassifierFixture>
{
    public const string Name = "trained classifier";
}
