using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Tests.Layers;

public class HyperConnectionPresetsTests
{
    [Fact]
    public void PaperExact_HasThePapersSettings()
    {
        var o = HyperConnectionPresets.PaperExact(8);
        Assert.Equal((8, 4, ConnectionKind.Mhc, true, DynamicGranularity.PerToken, MixingInit.Paper, (double?)null, SinkhornVariant.ExpFirst, 20, 0.01),
            (o.Dim, o.Streams, o.Mixing.Connection, o.Mixing.DynamicMixing, o.Granularity, o.Mixing.Init, o.Mixing.ResidualLogitBound, o.Mixing.Sinkhorn, o.Mixing.SinkhornIterations, o.GateInit));
        o.Validate();
        var d = HyperConnectionPresets.Default(8);
        Assert.Equal((MixingInit.IdentityLike, (double?)4.0), (d.Mixing.Init, d.Mixing.ResidualLogitBound));
    }

    // Identity branch, Phi = 0 (only the biases act), streams X_j = (j + 1) [1, -1]: S = sum_j X_j = 10 [1, -1].
    private static float[] StaticOutput(HyperConnectionOptions o)
    {
        T.Init();
        var hc = new HyperConnection("hc", Identity(), o);
        using (no_grad()) T.Param(hc, "phi").zero_();
        using var x = tensor(new float[] { 1, -1, 2, -2, 3, -3, 4, -4 }).reshape(1, 4, 2);
        using var y = hc.forward(x);
        return T.Values(y);
    }

    [Fact]
    public void PaperExact_StartsWithUniformMixing()
    {
        // H_res = Sinkhorn(0) = 1/4, H_pre = sigmoid(0) = 1/2, H_post = 2 sigmoid(0) = 1:
        // X'_i = S / 4 + F(S / 2) = 0.75 S = [7.5, -7.5] on every stream.
        var y = StaticOutput(HyperConnectionPresets.PaperExact(2));
        Assert.All(Enumerable.Range(0, 4), i =>
        {
            Assert.Equal(7.5, y[2 * i], 5);
            Assert.Equal(-7.5, y[2 * i + 1], 5);
        });
    }

    [Fact]
    public void Default_StartsNearTheIdentity()
    {
        // Bounded logits +-2 on / off the diagonal: Sinkhorn gives d = e^2 / (e^2 + 3 e^-2) and o = e^-2 / (e^2 + 3 e^-2).
        // H_pre: 0.7 on the home stream (layer 0: stream 0), 0.1 on the others: u = 0.7 X_0 + 0.1 (X_1 + X_2 + X_3) = 1.6 [1, -1].
        // X'_i = d X_i + o (S - X_i) + u.
        double d = Math.Exp(2) / (Math.Exp(2) + 3 * Math.Exp(-2)), o = Math.Exp(-2) / (Math.Exp(2) + 3 * Math.Exp(-2));
        var y = StaticOutput(HyperConnectionPresets.Default(2));
        for (int i = 0; i < 4; i++)
        {
            double expected = d * (i + 1) + o * (10 - (i + 1)) + 1.6;
            Assert.Equal(expected, y[2 * i], 4);
            Assert.Equal(-expected, y[2 * i + 1], 4);
        }
    }
}
