using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Tests.Injection;
using static TorchSharp.torch;

namespace Mhc.Models.Tests.History;

/// <summary>
/// The <c>mhc</c> package's options on the history skip, each pinned to hand-computed numbers. Most cases mix the
/// basis vectors e_0, e_1, e_2 with f = 0, so the output is the weight vector itself. Seeded draws (Gumbel) share
/// torch's global generator, hence the serial collection.
/// </summary>
[Collection(GlobalTorchRng.Name)]
public class HistoryWindowSkipOptionsTests
{
    // Logits 0, ln 2, ln 4: softmax [1, 2, 4] / 7.
    private static readonly float[] OneTwoFour = [0f, (float)Math.Log(2), (float)Math.Log(4)];

    private static HistoryWindowSkip Skip(HistoryWindowSkipOptions o, float[]? logits = null)
    {
        T.Init();
        var skip = new HistoryWindowSkip("s", o, [3], [[3], [3], [3]]);
        if (logits is not null)
            using (no_grad()) T.Param(skip, "mix_logits").copy_(tensor(logits));
        return skip;
    }

    // f = 0 and x_j = e_j (B = 1): the output is g * alpha.
    private static float[] Applied(HistoryWindowSkip skip)
    {
        using var f = zeros(1, 3);
        using var basis = eye(3);
        using var y = skip.forward(f, [basis[0].unsqueeze(0), basis[1].unsqueeze(0), basis[2].unsqueeze(0)]);
        return T.Values(y);
    }

    private static void Near(double[] expected, float[] actual, double tolerance = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]}, got {actual[i]} (all: {string.Join(", ", actual)})");
    }

    [Fact]
    public void Temperature_DividesTheLogits()
    {
        // T = 0.5 doubles the logits: softmax [0, 2 ln 2, 2 ln 4] = [1, 4, 16] / 21.
        var simplex = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, Temperature = 0.5 }, OneTwoFour);
        Near([1 / 21.0, 4 / 21.0, 16 / 21.0], Applied(simplex));
        // Identity-preserving with epsilon 0.1: 0.9 [1, 4, 16] / 21 + [0, 0, 0.1].
        var identity = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.IdentityPreservingSimplex, IdentityFloor = 0.1, Temperature = 0.5 }, OneTwoFour);
        Near([0.9 / 21, 3.6 / 21, 0.9 * 16 / 21 + 0.1], Applied(identity));
        // T = 2 halves them: softmax [0, ln 2 / 2, ln 4 / 2] = [1, sqrt 2, 2] / (3 + sqrt 2).
        var flat = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, Temperature = 2 }, OneTwoFour);
        double z = 3 + Math.Sqrt(2);
        Near([1 / z, Math.Sqrt(2) / z, 2 / z], flat.Weights());
    }

    [Fact]
    public void Temperature_AppliesBeforeSinkhorn()
    {
        T.Init();
        var skip = new HistoryWindowSkip("s", new HistoryWindowSkipOptions { Constraint = ConstraintKind.DoublyStochastic, Temperature = 0.25 }, [2], [[2], [2], [2]]);
        var logits = tensor(new float[] { 0, 1, 2, 1, 0, 1, 2, 1, 0 }).reshape(3, 3);
        using (no_grad()) T.Param(skip, "mix_logits").copy_(logits);
        using var expected = new SinkhornProjection(20).Project(logits * 4);
        Assert.Equal(T.Values(expected[2]), skip.Weights());
    }

    [Fact]
    public void PruneThreshold_DropsSmallWeights_WithoutRenormalising()
    {
        // alpha = [1, 2, 4] / 7 = [0.143, 0.286, 0.571]; threshold 0.2 drops the oldest and leaves 6/7 in total.
        var skip = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, PruneThreshold = 0.2 }, OneTwoFour);
        Near([0, 2 / 7.0, 4 / 7.0], Applied(skip));
        Near([0, 2 / 7.0, 4 / 7.0], skip.Weights());

        // x_0 = [7, 0], x_1 = [0, 7], x_2 = [7, 7], f = 0: unpruned [5, 6]; pruned 2/7 [0, 7] + 4/7 [7, 7] = [4, 6].
        T.Init();
        var vector = new HistoryWindowSkip("v", new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, PruneThreshold = 0.2 }, [2], [[2], [2], [2]]);
        using (no_grad()) T.Param(vector, "mix_logits").copy_(tensor(OneTwoFour));
        using var f = zeros(1, 2);
        using var y = vector.forward(f, [tensor(new float[] { 7, 0 }).reshape(1, 2), tensor(new float[] { 0, 7 }).reshape(1, 2), tensor(new float[] { 7, 7 }).reshape(1, 2)]);
        Near([4, 6], T.Values(y), 1e-5);

        // The dropped weight's logit still gets a gradient through the softmax of the kept ones, but its own term is gone:
        // d(sum y)/d(z_0) = -w_0 (w_1 (7) + w_2 (14)) only via normalisation = -(1/7)(2/7 * 7 + 4/7 * 14) = -10/7.
        y.sum().backward();
        var g = T.Values(T.Param(vector, "mix_logits").grad!);
        Assert.Equal(-10 / 7.0, g[0], 4);
    }

    [Fact]
    public void UseGating_IsSigmoidOfALogitStartingAtTwo()
    {
        var skip = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, UseGating = true }, OneTwoFour);
        double g = 1 / (1 + Math.Exp(-2));   // 0.8808
        Assert.Equal(g, skip.Gate, 6);
        Assert.Equal(2.0, T.Values(T.Param(skip, "gate_logit"))[0]);
        Near([g / 7, 2 * g / 7, 4 * g / 7], Applied(skip));

        // d(sum y)/d(gamma) = sigmoid'(2) * sum(alpha) = g (1 - g).
        using var f = zeros(1, 3);
        using var basis = eye(3);
        skip.forward(f, [basis[0].unsqueeze(0), basis[1].unsqueeze(0), basis[2].unsqueeze(0)]).sum().backward();
        Assert.Equal(g * (1 - g), T.Values(T.Param(skip, "gate_logit").grad!)[0], 6);

        var custom = Skip(new HistoryWindowSkipOptions { UseGating = true, GateLogitInit = 0 });
        Assert.Equal(0.5, custom.Gate, 6);
        Assert.Throws<ArgumentException>(() => new HistoryWindowSkipOptions { UseGating = true, LearnedGate = true }.Validate());
    }

    [Fact]
    public void IdentityInit_StartsAsAPlainResidual()
    {
        // Logits [-10, -10, 0]: alpha = [e^-10, e^-10, 1] / (1 + 2 e^-10).
        double e = Math.Exp(-10), z = 1 + 2 * e;
        var simplex = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, Init = HistoryMixingInit.Identity });
        Near([e / z, e / z, 1 / z], simplex.Weights(), 1e-7);
        var none = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.None, Init = HistoryMixingInit.Identity });
        Assert.Equal(new float[] { 0, 0, 1 }, none.Weights());
        var sinkhorn = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.DoublyStochastic, Init = HistoryMixingInit.Identity });
        Assert.Equal(new float[] { 0, -10, -10, -10, 0, -10, -10, -10, 0 }, T.Values(T.Param(sinkhorn, "mix_logits")));
        Near([e / z, e / z, 1 / z], sinkhorn.Weights(), 1e-6);
    }

    [Fact]
    public void Stochastic_AddsGumbelNoiseInTraining_AndNothingInEvaluation()
    {
        var o = new HistoryWindowSkipOptions { Constraint = ConstraintKind.Simplex, Temperature = 0.7, Stochastic = true };
        var skip = Skip(o, OneTwoFour);

        // The same generator state gives the same U: alpha = softmax((z - ln(-ln U)) / T).
        random.manual_seed(7);
        var u = T.Values(rand(3));
        var noisy = OneTwoFour.Select((z, i) => (z - Math.Log(-Math.Log(u[i]))) / 0.7).ToArray();
        double sum = noisy.Sum(Math.Exp);
        random.manual_seed(7);
        skip.train();
        Near(noisy.Select(v => Math.Exp(v) / sum).ToArray(), Applied(skip));

        // Evaluation: softmax(z / T), no noise, the same on every call.
        skip.eval();
        double s = OneTwoFour.Sum(z => Math.Exp(z / 0.7));
        var expected = OneTwoFour.Select(z => Math.Exp(z / 0.7) / s).ToArray();
        Near(expected, Applied(skip));
        Near(expected, Applied(skip));
    }

    [Fact]
    public void Stochastic_KeepsTheIdentityFloor_InEveryDraw()
    {
        var skip = Skip(new HistoryWindowSkipOptions { Constraint = ConstraintKind.IdentityPreservingSimplex, IdentityFloor = 0.1, Stochastic = true },
            [3f, 3f, -3f]);
        skip.train();
        random.manual_seed(11);
        var newest = Enumerable.Range(0, 200).Select(_ => Applied(skip)[2]).ToArray();
        Assert.All(newest, w => Assert.True(w >= 0.1f - 1e-6f, $"newest weight {w} fell below the floor"));
        Assert.True(newest.Distinct().Count() > 150, "the draws should differ");
    }

    [Fact]
    public void Validate_RejectsOptionsThatHaveNoMeaning()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HistoryWindowSkipOptions { Temperature = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new HistoryWindowSkipOptions { Constraint = ConstraintKind.None, Temperature = 0.5 }.Validate());
        Assert.Throws<ArgumentException>(() => new HistoryWindowSkipOptions { Constraint = ConstraintKind.None, Stochastic = true }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new HistoryWindowSkipOptions { PruneThreshold = 1 }.Validate());
    }

    [Fact]
    public void Presets_AreThePackagesOptionSets()
    {
        var stable = HistoryWindowSkipPresets.Stable();
        Assert.Equal((ConstraintKind.IdentityPreservingSimplex, 0.1, 1.0, HistoryMixingInit.Identity),
            (stable.Constraint, stable.IdentityFloor, stable.Temperature, stable.Init));
        var aggressive = HistoryWindowSkipPresets.Get("Aggressive");
        Assert.Equal((ConstraintKind.Simplex, 0.7, HistoryMixingInit.Uniform), (aggressive.Constraint, aggressive.Temperature, aggressive.Init));
        var research = HistoryWindowSkipPresets.Get("research");
        Assert.Equal((ConstraintKind.Simplex, 0.05, 1.0, HistoryMixingInit.Uniform),
            (research.Constraint, research.IdentityFloor, research.Temperature, research.Init));
        Assert.Contains("stable, aggressive, research", Assert.Throws<ArgumentException>(() => HistoryWindowSkipPresets.Get("bold")).Message);

        // Their weights at init over a window of 4: stable 0.9 softmax([-10, -10, -10, 0]) + 0.1 e_newest, the others uniform.
        T.Init();
        double e = Math.Exp(-10), z = 1 + 3 * e;
        var s = new HistoryWindowSkip("s", stable, [2], [[2], [2], [2], [2]]);
        Near([0.9 * e / z, 0.9 * e / z, 0.9 * e / z, 0.9 / z + 0.1], s.Weights(), 1e-7);
        var a = new HistoryWindowSkip("a", aggressive, [2], [[2], [2], [2], [2]]);
        Near([0.25, 0.25, 0.25, 0.25], a.Weights());
        // Aggressive's temperature 0.7 on logits j ln 2: alpha_j proportional to 2^(j / 0.7).
        using (no_grad()) T.Param(a, "mix_logits").copy_(tensor(new float[] { 0, (float)Math.Log(2), (float)Math.Log(4), (float)Math.Log(8) }));
        var p = Enumerable.Range(0, 4).Select(j => Math.Pow(2, j / 0.7)).ToArray();
        Near(p.Select(v => v / p.Sum()).ToArray(), a.Weights());
    }
}
