using Mhc.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DepthStudy;

/// <summary>The loss curves of the re-run of the mhc package's own convergence benchmark.</summary>
/// <param name="Depth">ResNet blocks (the package: 50).</param>
/// <param name="Steps">Full-batch Adam steps (the package: 100).</param>
/// <param name="ResNet">Loss per step of x + relu(linear(x)) blocks.</param>
/// <param name="HistoryDetached">Loss per step of the package's MHCSequential as configured by default (history detached).</param>
/// <param name="HistoryAttached">The same with gradients through the history (this library's default).</param>
public sealed record PackageClaimResult(int Depth, int Steps, double[] ResNet, double[] HistoryDetached, double[] HistoryAttached)
{
    /// <summary>Steps the history model needs to reach the ResNet's final loss (null: never), and the speed-up 100 / that.</summary>
    public (int? Steps, double? Speedup) Speedup(double[] history)
    {
        double target = ResNet[^1];
        int? steps = LossMetrics.StepsToTarget(history, target, smoothing: 1);
        return (steps, steps is { } k ? (double)Steps / k : null);
    }
}

/// <summary>
/// Re-runs the benchmark behind the <c>mhc</c> package's claim "2x faster convergence compared to standard ResNet on
/// deep MLPs" (its <c>experiments/benchmark_stability.py</c>): 32 random inputs of 64 features regressed (MSE) onto
/// 32 random targets, full batch, Adam lr 1e-3, 100 steps; ResNet = 50 blocks x + relu(linear(x)); mHC =
/// <c>MHCSequential</c> over the 100 modules [Linear, ReLU] x 50 with the identity-preserving constraint and the
/// package's defaults (epsilon 0.1, identity init, H = 4, history detached). Our equivalent of <c>MHCSequential</c> is a
/// <see cref="HistoryWindowSkipStack"/> with one skip per module, the <c>stable</c> preset and
/// <see cref="HistoryWindowSkipOptions.DetachHistory"/> as the package's configuration sets it.
/// </summary>
public static class PackageClaim
{
    /// <summary>Runs the three models from one seed; quick: depth 10, 30 steps.</summary>
    public static PackageClaimResult Run(bool quick, Action<string> log)
    {
        int depth = quick ? 10 : 50, steps = quick ? 30 : 100, dim = 64, batch = 32;
        log($"mhc package claim: depth {depth}, {steps} full-batch Adam steps (lr 1e-3) of MSE on {batch} random 64-d pairs");
        double[] Train(Func<Module<Tensor, Tensor>> build)
        {
            using var scope = NewDisposeScope();
            torch.random.manual_seed(42);
            var x = randn(batch, dim);
            var y = randn(batch, dim);
            using var model = build();
            using var adam = optim.Adam(model.parameters(), 1e-3);
            var losses = new double[steps];
            for (int i = 0; i < steps; i++)
            {
                using var step = NewDisposeScope();
                adam.zero_grad();
                var loss = functional.mse_loss(model.forward(x), y);
                loss.backward();
                adam.step();
                losses[i] = loss.ToDouble();
            }
            return losses;
        }

        var resnet = Train(() => Sequential(Enumerable.Range(0, depth).Select(i => ($"{i}", (Module<Tensor, Tensor>)new ResNetBlock(dim))).ToArray()));
        double[] History(bool detach) => Train(() =>
        {
            var modules = Enumerable.Range(0, depth).SelectMany(_ => new Module<Tensor, Tensor>[] { Linear(dim, dim), ReLU() });
            var options = HistoryWindowSkipPresets.Stable();
            options.DetachHistory = detach;
            return new HistoryWindowSkipStack("mhc", modules, [dim], options);
        });
        var result = new PackageClaimResult(depth, steps, resnet, History(detach: true), History(detach: false));
        log(FormattableString.Invariant(
            $"  final MSE: ResNet {resnet[^1]:F4}, history skip (detached, package default) {result.HistoryDetached[^1]:F4}, attached {result.HistoryAttached[^1]:F4}"));
        return result;
    }

    private sealed class ResNetBlock : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> linear;

        public ResNetBlock(int dim) : base("block")
        {
            linear = Linear(dim, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => x + functional.relu(linear.forward(x));
    }
}
