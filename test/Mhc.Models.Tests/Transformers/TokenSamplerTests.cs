using Mhc.Models.Transformers;

namespace Mhc.Models.Tests.Transformers;

public class TokenSamplerTests
{
    private static readonly float[] Logits = { 0.5f, 2.0f, -1.0f, 1.0f };

    [Fact]
    public void TopK1_And_TinyTopP_AreGreedy()
    {
        var rng = new Random(1);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, new TokenSampler(topK: 1).Sample(Logits, rng)));
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, new TokenSampler(topP: 0.01).Sample(Logits, rng)));
    }

    [Fact]
    public void Frequencies_FollowTheSoftmax()
    {
        var sampler = new TokenSampler(temperature: 1);
        var rng = new Random(2);
        var counts = new int[4];
        const int draws = 20000;
        for (int i = 0; i < draws; i++) counts[sampler.Sample(Logits, rng)]++;
        double z = Logits.Sum(l => Math.Exp(l));
        for (int i = 0; i < 4; i++)
            Assert.InRange(counts[i] / (double)draws, Math.Exp(Logits[i]) / z - 0.015, Math.Exp(Logits[i]) / z + 0.015);
    }

    [Fact]
    public void TopK_NeverPicksOutsideTheK()
    {
        var sampler = new TokenSampler(temperature: 5, topK: 2);
        var rng = new Random(3);
        var seen = Enumerable.Range(0, 500).Select(_ => sampler.Sample(Logits, rng)).Distinct().OrderBy(i => i).ToArray();
        Assert.Equal(new[] { 1, 3 }, seen);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void NonPositiveTemperature_IsRefused(double temperature)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(temperature));
        Assert.Contains("Temperature must be a positive", e.Message);
    }
}
