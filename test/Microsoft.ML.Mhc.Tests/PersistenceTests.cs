using Mhc.Models;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Persistence;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Tests;

public sealed class PersistenceTests
{
    public PersistenceTests() => MhcEnvironment.EnsureTorch();

    private static ImageClassifierSpec Spec() => MhcImageClassificationTrainer.CreateSpec(TestData.TinyOptions(), 3);

    [Fact]
    public void SerializedNetworkRoundTripsAndDetectsDamage()
    {
        var weights = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var encoded = new SerializedNetwork("image-classifier", "{\"a\":1}", weights).Encode();
        var decoded = SerializedNetwork.Decode(encoded, "image-classifier");
        Assert.Equal(weights, decoded.Weights);
        Assert.Equal("{\"a\":1}", decoded.ConfigJson);

        var damaged = encoded[..^8] + (encoded[^8] == 'A' ? 'B' : 'A') + encoded[^7..];
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => SerializedNetwork.Decode(damaged)).Message);
        Assert.Contains("Not an mHC network", Assert.Throws<InvalidDataException>(() => SerializedNetwork.Decode("PK\u0003\u0004 something else")).Message);
        Assert.Contains("'segmenter' was expected", Assert.Throws<InvalidDataException>(() => SerializedNetwork.Decode(encoded, "segmenter")).Message);
    }

    [Fact]
    public void NetworkWeightsRoundTripAndReportMismatchesByName()
    {
        random.manual_seed(3);
        using var a = new ImageClassifierNetwork(Spec(), [10f], [2f]);
        random.manual_seed(4);
        using var b = new ImageClassifierNetwork(Spec());
        var bytes = NetworkWeights.ToBytes(a);
        Assert.NotEqual(bytes, NetworkWeights.ToBytes(b));
        NetworkWeights.Load(b, bytes);
        Assert.Equal(bytes, NetworkWeights.ToBytes(b));
        Assert.Contains(b.state_dict().Keys, k => k.Contains("input_mean"));

        var wider = TestData.TinyOptions();
        wider.BaseWidth = 32;
        using var c = new ImageClassifierNetwork(MhcImageClassificationTrainer.CreateSpec(wider, 3));
        var e = Assert.Throws<InvalidDataException>(() => NetworkWeights.Load(c, bytes));
        Assert.Contains("Tensor '", e.Message);
    }

    [Fact]
    public void EngineScoresTheSameAfterSerialization()
    {
        random.manual_seed(5);
        using var engine = new ImageClassifierEngine(new ImageClassifierNetwork(Spec(), [30f], [60f]), CPU);
        using var copy = ImageClassifierEngine.Deserialize(SerializedNetwork.Decode(engine.Serialize().Encode()));
        var rows = TestData.Bars(2, 4).SelectMany(r => r.Pixels).ToArray();
        var p1 = new float[6 * 3];
        var p2 = new float[6 * 3];
        engine.Probabilities(rows, 6, p1);
        copy.Probabilities(rows, 6, p2);
        Assert.Equal(p1, p2);
        var one = new float[16];
        uint index = copy.ScoreRow(rows.AsSpan(0, 64), one);
        Assert.Equal(p1[..3], one[..3]);
        Assert.All(one[3..], v => Assert.Equal(0f, v));
        Assert.Equal((uint)ImageClassifierEngine.ArgMax(p1.AsSpan(0, 3)), index);
    }

    [Fact]
    public void TrimKeepsTheFirstSlotsAndSavesAsAStockTransform()
    {
        var ml = new MLContext(1);
        var trim = SavedScoringChain.Trim(ml, "Out", "In", 16, 5);
        var definition = SchemaDefinition.Create(typeof(SavedScoringChain.VectorRow));
        definition[0].ColumnName = "In";
        definition[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 16);
        var data = ml.Data.LoadFromEnumerable(new[] { new SavedScoringChain.VectorRow { Values = Enumerable.Range(1, 16).Select(i => (float)i).ToArray() } }, definition);
        var path = TestData.TempPath("trim.zip");
        ml.Model.Save(trim, data.Schema, path);
        var loaded = new MLContext().Model.Load(path, out _);
        var output = loaded.Transform(data);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 5), output.Schema["Out"].Type);
        Assert.Equal([1f, 2f, 3f, 4f, 5f], output.GetColumn<float[]>("Out").Single());
    }

    [Fact]
    public void KeyFromIndexRestoresKeyValuesOfAnyType()
    {
        var ml = new MLContext(1);
        var labels = ml.Data.LoadFromEnumerable(new[] { 7f, 3f, 9f }.Select(v => new NumericLabel { Label = v }));
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(labels).Transform(labels);
        var info = KeyColumnInfo.FromSchema(keyed.Schema, "Label");
        Assert.Equal(NumberDataViewType.Single, info.ValueType);
        var indices = ml.Data.LoadFromEnumerable(new[] { 2u, 0u, 1u }.Select(i => new IndexRow { Index = i }));
        var chain = SavedScoringChain.Compose(ml, indices.Schema, SavedScoringChain.KeyFromIndex(ml, "Predicted", "Index", info));
        var restored = ml.Transforms.Conversion.MapKeyToValue("Value", "Predicted").Fit(chain.Transform(indices)).Transform(chain.Transform(indices));
        Assert.Equal([9f, 7f, 3f], restored.GetColumn<float>("Value").ToArray());
        Assert.Equal(keyed.Schema["Label"].Type, chain.Transform(indices).Schema["Predicted"].Type);
    }

    [Fact]
    public void ForeignOrDamagedModelFilesGiveClearErrors()
    {
        var ml = new MLContext(1);
        var junk = TestData.TempPath("junk.zip");
        File.WriteAllBytes(junk, Enumerable.Range(0, 500).Select(i => (byte)(i * 7)).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => MhcModelFile.Load(ml, junk, out _));
        Assert.Contains("is not a readable ML.NET model", e.Message);
        Assert.Throws<FileNotFoundException>(() => MhcModelFile.Load(ml, junk + ".missing", out _));

        // A saved chain whose network value was damaged: loading works, scoring names the problem.
        var rows = ml.Data.LoadFromEnumerable(TestData.Bars(1, 1));
        random.manual_seed(1);
        using var engine = new ImageClassifierEngine(new ImageClassifierNetwork(Spec()), CPU);
        var encoded = engine.Serialize().Encode();
        var damaged = encoded[..^10] + (encoded[^10] == 'A' ? 'B' : 'A') + encoded[^9..];
        var (scoring, width) = ImageScoringMappings.Create(ml, 3);
        var chain = SavedScoringChain.Compose(ml, rows.Schema,
            ml.Transforms.CopyColumns(ImageScoringMappings.FeaturesColumn, "Pixels"),
            SavedScoringChain.NetworkLookup(ml, damaged), scoring,
            SavedScoringChain.Trim(ml, "Score", ImageScoringMappings.WideScoreColumn, width, 3));
        var path = TestData.TempPath("damaged.zip");
        MhcModelFile.Save(ml, chain, rows.Schema, path);
        var loaded = MhcModelFile.Load(new MLContext(), path, out _);
        var error = Assert.ThrowsAny<Exception>(() => loaded.Transform(rows).GetColumn<float[]>("Score").ToArray());
        Assert.Contains("checksum", error.GetBaseException().Message);
    }

    public sealed class NumericLabel
    {
        public float Label { get; set; }
    }

    public sealed class IndexRow
    {
        public uint Index { get; set; }
    }

    [Fact]
    public void ModelsInTheEarlierFlatLayout_StillLoadAndScore_RowAtATime()
    {
        // Models saved before scoring segments carried their settings: the network lookup, the mapping and the trim
        // sit directly in the chain. MhcModelFile.Load keeps such a chain as it is.
        var ml = new MLContext(1);
        var bars = TestData.Bars(2, 6);
        var rows = ml.Data.LoadFromEnumerable(bars);
        random.manual_seed(2);
        using var engine = new ImageClassifierEngine(new ImageClassifierNetwork(Spec(), [30f], [60f]), CPU);
        var (scoring, width) = ImageScoringMappings.Create(ml, 3);
        var chain = SavedScoringChain.Compose(ml, rows.Schema,
            ml.Transforms.CopyColumns(ImageScoringMappings.FeaturesColumn, "Pixels"),
            SavedScoringChain.NetworkLookup(ml, engine.Serialize().Encode()), scoring,
            SavedScoringChain.Trim(ml, "Score", ImageScoringMappings.WideScoreColumn, width, 3));
        var path = TestData.TempPath("flat.zip");
        MhcModelFile.Save(ml, chain, rows.Schema, path);
        using var loaded = MhcModelFile.Load(new MLContext(), path, out _);

        var scores = TestData.Scores(loaded.Transform(rows));
        var expected = new float[bars.Count * 3];
        engine.Probabilities(bars.SelectMany(r => r.Pixels).ToArray(), bars.Count, expected);
        Assert.True(TestData.MaxAbsDiff(expected, scores) <= 1e-6);
        Assert.Equal(bars.Count, ImageScoringMappings.Engines.Get(SavedNetworks.Blobs(loaded).Single()).ForwardPasses);
    }
}
