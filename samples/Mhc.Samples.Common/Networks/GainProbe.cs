using Mhc.Models.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Samples.Networks;

/// <summary>Composite gains of one network on one batch, plus how much the state itself grew.</summary>
/// <param name="Profile">Per-layer and composite gains of the recorded (batch-mean) H_res, or of the history window maps.</param>
/// <param name="SignalGain">RMS of the state after the last block over the RMS of the embedded input.</param>
public sealed record GainFigures(GainProfile Profile, double SignalGain)
{
    /// <summary>Composite forward gain (largest absolute row sum of H_L ... H_1).</summary>
    public double Forward => Profile.FinalForward;

    /// <summary>Composite backward gain (largest absolute column sum).</summary>
    public double Backward => Profile.FinalBackward;

    /// <summary>Largest composite forward gain over all prefixes H_l ... H_1 (the stack may peak mid-depth).</summary>
    public double PeakCompositeForward => Profile.CompositeForward.Count == 0 ? 1 : Profile.CompositeForward.Max();

    /// <summary>Largest composite backward gain over all prefixes.</summary>
    public double PeakCompositeBackward => Profile.CompositeBackward.Count == 0 ? 1 : Profile.CompositeBackward.Max();

    /// <summary>Largest single-layer forward gain.</summary>
    public double MaxLayerForward => Profile.LayerForward.Count == 0 ? 1 : Profile.LayerForward.Max();
}

/// <summary>Measures gains, and builds the random-mixing probe.</summary>
public static class GainProbe
{
    /// <summary>
    /// Runs <paramref name="pixels"/> through the network with mixing recorded and returns its gains. For
    /// the dynamic (input-dependent) mixing this is the gain of the batch-mean H_res per layer. The
    /// residual network has no mixing matrix: its H_res is the 1 x 1 identity, gain 1 by construction.
    /// A history-window stack reports the gains of its window maps (<see cref="HistoryWindowGain"/>).
    /// </summary>
    public static GainFigures Measure(DeepStack model, Tensor pixels)
    {
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            using var recording = MixingRecording.Start(model.HyperConnections);
            var x = model.Embed(pixels);
            var state = model.Blocks(x);
            double signal = Rms(state) / Rms(x);
            var profile = model.History is { } history ? HistoryWindowGain.Profile(history) : GainProfile.From(recording.Collect());
            return new GainFigures(profile, signal);
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>
    /// Sets every block's static H_res parameter to I + sigma G with G standard normal, drawn from
    /// <paramref name="seed"/>: HC and mHC get the same raw parameters; HC uses them as they are, mHC
    /// projects them onto the doubly stochastic matrices (Sinkhorn of exp), which is the whole difference.
    /// </summary>
    public static void RandomizeResidualMixing(DeepStack model, double sigma, int seed)
    {
        var random = new Random(seed);
        using var noGrad = no_grad();
        foreach (var hc in model.HyperConnections)
        {
            var bias = hc.named_parameters(recurse: false).Single(p => p.name == "bias_res").parameter;
            int n = hc.Options.Streams;
            var values = new float[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    values[i * n + j] = (float)((i == j ? 1.0 : 0.0) + sigma * Gaussian(random));
            using var t = tensor(values).reshape(n, n);
            bias.copy_(t);
        }
    }

    private static double Rms(Tensor t) => t.to_type(ScalarType.Float64).square().mean().sqrt().ToDouble();

    private static double Gaussian(Random r) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - r.NextDouble())) * Math.Cos(2.0 * Math.PI * r.NextDouble());
}
