using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.Tests;

public sealed class TrainingBlocksTests
{
    [Fact]
    public void WarmupThenCosineDecay()
    {
        var s = new WarmupCosineSchedule(1.0, 100, 0.1, 0.01);
        Assert.Equal(10, s.WarmupSteps);
        Assert.Equal(0.1, s.At(0), 9);
        Assert.Equal(1.0, s.At(9), 9);
        Assert.Equal(1.0, s.At(10), 9);
        Assert.Equal(0.01 + 0.99 * 0.5, s.At(55), 9);
        Assert.Equal(0.01, s.At(100), 9);
        for (int i = 10; i < 100; i++) Assert.True(s.At(i + 1) <= s.At(i));
    }

    [Fact]
    public void RetargetedScheduleDecaysFromTheCurrentRateWithoutAJump()
    {
        var s = new WarmupCosineSchedule(1.0, 1000, 0.1, 0.01);
        double current = s.At(300);
        var shorter = s.Retarget(300, 400);
        Assert.Equal(current, shorter.At(300), 9);
        Assert.Equal(0.01, shorter.At(400), 9);
        for (int i = 300; i < 400; i++) Assert.True(shorter.At(i + 1) <= shorter.At(i));
        Assert.True(shorter.At(350) < s.At(350));
    }

    [Fact]
    public void ShiftMovesPixelsAndPadsWithZeros()
    {
        var source = Enumerable.Range(1, 16).Select(i => (float)i).ToArray();
        var destination = new float[16];
        var augmentation = new ImageAugmentation(1, false);
        var random = new Random(0);
        bool sawShift = false;
        for (int trial = 0; trial < 20; trial++)
        {
            augmentation.Apply(source, destination, 1, 4, 4, random);
            // Every output pixel is either padding or an input pixel from one step away at most.
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                {
                    float v = destination[y * 4 + x];
                    if (v == 0) continue;
                    int sy = ((int)v - 1) / 4, sx = ((int)v - 1) % 4;
                    Assert.InRange(Math.Abs(sy - y), 0, 1);
                    Assert.InRange(Math.Abs(sx - x), 0, 1);
                }
            sawShift |= !destination.SequenceEqual(source);
        }
        Assert.True(sawShift);
        new ImageAugmentation(0, true).Apply(source, destination, 1, 4, 4, new Random(1));
        new ImageAugmentation(0, false).Apply(source, destination, 1, 4, 4, new Random(1));
        Assert.Equal(source, destination);
    }

    [Fact]
    public void MetricAccumulatorWeightsBatches()
    {
        var m = new MetricAccumulator();
        m.Add("accuracy", 3, 4);
        m.Add("accuracy", 1, 4);
        m.Add("loss", 2, 8);
        Assert.Equal(0.5, m.Mean("accuracy"));
        Assert.Equal(["accuracy"], m.Means(except: "loss").Keys);
        Assert.True(double.IsNaN(m.Mean("missing")));
    }

    [Fact]
    public void AdamWDecaysWeightMatricesOnly()
    {
        global::Mhc.Models.MhcEnvironment.EnsureTorch();
        using var network = new Microsoft.ML.Mhc.ImageClassification.ImageClassifierNetwork(
            Microsoft.ML.Mhc.ImageClassification.MhcImageClassificationTrainer.CreateSpec(TestData.TinyOptions(), 3));
        var named = network.named_parameters().ToList();
        Assert.Contains(named, p => p.name.EndsWith("bias_res", StringComparison.Ordinal) && !OptimizerFactory.IsDecayed(p.name, p.parameter));
        Assert.Contains(named, p => p.name.Contains("conv", StringComparison.Ordinal) && OptimizerFactory.IsDecayed(p.name, p.parameter));
        Assert.DoesNotContain(named, p => p.parameter.dim() < 2 && OptimizerFactory.IsDecayed(p.name, p.parameter));
    }
}
