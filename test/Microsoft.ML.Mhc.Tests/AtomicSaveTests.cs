using Microsoft.ML.Data;
using Mhc.Models.IO;
using Microsoft.ML.Mhc.Persistence;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>
/// MhcModelFile.Save (the call the README shows) replaces a model file atomically, for any ML.NET model: a save that
/// fails midway keeps the old file byte for byte and leaves no temporary file, where ML.NET's own Save leaves a broken one.
/// </summary>
[Collection(ClassifierCollection.Name)]
public sealed class AtomicSaveTests(ImageClassifierFixture f)
{
    /// <summary>A transformer whose save writes part of the model and then fails, as a full disk does.</summary>
    private sealed class FailingSave(ITransformer inner) : ITransformer
    {
        public bool IsRowToRowMapper => inner.IsRowToRowMapper;
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inner.GetOutputSchema(inputSchema);
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => inner.GetRowToRowMapper(inputSchema);
        public IDataView Transform(IDataView input) => inner.Transform(input);

        void ICanSaveModel.Save(ModelSaveContext ctx)
        {
            ((ICanSaveModel)inner).Save(ctx);
            throw new IOException("No space left on device");
        }
    }

    [Fact]
    public void AFailedSave_KeepsTheOldFile_AndLeavesNoTemporaryFile()
    {
        var path = TestData.TempPath("model.zip");
        var folder = Path.GetDirectoryName(path)!;
        MhcModelFile.Save(f.Ml, f.Model, f.Train.Schema, path);
        var before = File.ReadAllBytes(path);

        var broken = new TransformerChain<ITransformer>(f.Ml.Transforms.CopyColumns("Copy", "Pixels").Fit(f.Train), new FailingSave(f.Classifier));
        Assert.Throws<IOException>(() => MhcModelFile.Save(f.Ml, broken, f.Train.Schema, path));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.zip"], Directory.GetFiles(folder).Select(Path.GetFileName));
        var reloaded = MhcModelFile.Load(new MLContext(), path, out _);
        Assert.Equal(0, TestData.MaxAbsDiff(TestData.Scores(f.Model.Transform(f.Test)), TestData.Scores(reloaded.Transform(f.Test))), 5);

        // A new target is not created at all when the save fails.
        var fresh = Path.Combine(folder, "new.zip");
        Assert.Throws<IOException>(() => MhcModelFile.Save(f.Ml, broken, f.Train.Schema, fresh));
        Assert.False(File.Exists(fresh));

        // What the README warns about: ML.NET's own Save truncates the target first and leaves a broken file.
        Assert.ThrowsAny<Exception>(() => f.Ml.Model.Save(broken, f.Train.Schema, path));
        Assert.NotEqual(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void AtomicFile_ReplacesTheWholeFile()
    {
        var path = TestData.TempPath("data.bin");
        AtomicFile.Write(path, s => s.Write(new byte[] { 1, 2, 3 }));
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.Write(new byte[] { 9, 9 }); throw new InvalidOperationException("stop"); }));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        AtomicFile.Write(path, s => s.Write(new byte[] { 4 }));
        Assert.Equal(new byte[] { 4 }, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
