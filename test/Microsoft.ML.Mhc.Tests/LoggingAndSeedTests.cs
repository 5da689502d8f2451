using Mhc.Models;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>The trainers log through the caller's MLContext (nothing on the console) and take its seed when theirs is unset.</summary>
public sealed class LoggingAndSeedTests
{
    [Fact]
    public void MhcImage_LogsToTheCallersContext_AndNothingToTheConsole()
    {
        var ml = new MLContext(seed: 1);
        var lines = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (lines) lines.Add(e); };
        var callback = new List<string>();
        var options = TestData.TinyOptions(epochs: 1);
        options.Log = callback.Add;
        var stderr = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            TestData.Pipeline(ml, options).Fit(ml.Data.LoadFromEnumerable(TestData.Bars(5, seed: 1)));
        }
        finally
        {
            Console.SetError(stderr);
        }
        var ours = lines.Where(e => e.Source == "MhcImage" && e.Kind == Runtime.ChannelMessageKind.Info).Select(e => e.RawMessage).ToList();
        Assert.Contains(ours, m => m.StartsWith("training on cpu: 15 examples", StringComparison.Ordinal));
        Assert.Contains(ours, m => m.StartsWith("TorchSharp on cpu", StringComparison.Ordinal));
        Assert.Contains(ours, m => m.Contains("epoch 1", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(ours, callback);
        Assert.Null(MhcEnvironment.Log);
        Assert.DoesNotContain("[mhc]", captured.ToString());
    }

    [Fact]
    public void MhcImage_BuildsOnTheCallersContext_NotAPrivateOne()
    {
        var ml = new MLContext(seed: 1);
        var other = new MLContext(seed: 1);
        Assert.Same(ml, ml.MulticlassClassification.Trainers.MhcImage(TestData.TinyOptions()).Context);
        Assert.Same(other, other.MulticlassClassification.Trainers.MhcImage(TestData.TinyOptions()).Context);
    }

    [Fact]
    public void MhcDecoder_AndMhcUNet_LogToTheirContext()
    {
        var ml = new MLContext(seed: 1);
        var lines = new List<(string Source, string Message)>();
        ml.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Info) lock (lines) lines.Add((e.Source, e.RawMessage)); };
        var text = TextGeneration.TextGenerationFixture.Options(epochs: 1);
        text.StepsPerEpoch = 2;
        text.ValidationWindows = 2;
        var corpus = ml.Data.LoadFromEnumerable(TextGeneration.TextGenerationFixture.Lines.Select(l => new TextGeneration.TextRow { Text = l }).ToArray());
        ml.TextGeneration().Trainers.MhcDecoder(text).Fit(corpus);
        using var unet = ml.Segmentation().Trainers.MhcUNet(Segmentation.SegmentationTestData.TinyOptions(epochs: 1))
            .Fit(ml.Data.LoadFromEnumerable(Segmentation.SegmentationTestData.Squares(8, 1)));
        Assert.Contains(lines, l => l.Source == "MhcDecoder" && l.Message.StartsWith("epoch 1/1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Source == "MhcUNet" && l.Message.StartsWith("epoch 1/1", StringComparison.Ordinal));
    }

    [Fact]
    public void UnsetSeed_ComesFromTheContext()
    {
        float[] Scores(int contextSeed)
        {
            var ml = new MLContext(seed: contextSeed);
            var options = TestData.TinyOptions(epochs: 1);
            options.Seed = null;
            var train = ml.Data.LoadFromEnumerable(TestData.Bars(5, seed: 1));
            return TestData.Scores(TestData.Pipeline(ml, options).Fit(train).Transform(train));
        }
        var first = Scores(7);
        Assert.Equal(0, TestData.MaxAbsDiff(first, Scores(7)));
        Assert.True(TestData.MaxAbsDiff(first, Scores(8)) > 1e-4, "a different context seed should give a different model");
    }
}
