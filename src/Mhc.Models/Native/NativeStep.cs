using TorchSharp;

namespace Mhc.Models.Native;

/// <summary>
/// What guards one step of native work (a training step, a scoring batch, a generated token, a likelihood window):
/// finalizers held back while libtorch runs (<see cref="GcQuietRegion"/>) and the gradient mode the step asks for.
/// Every loop of the library enters its steps here, so how a step is guarded is decided in one place. The caller keeps
/// its own dispose scope, whose extent differs per loop (a training step's batch, a generated token's logits).
/// </summary>
/// <remarks>Dispose it on the thread that entered it, and call no user code inside it (it may wait for finalizers).</remarks>
public readonly struct NativeStep : IDisposable
{
    private readonly GcQuietRegion.Lease quiet;
    private readonly IDisposable? gradMode;

    private NativeStep(GcQuietRegion.Lease quiet, IDisposable? gradMode)
    {
        this.quiet = quiet;
        this.gradMode = gradMode;
    }

    /// <summary>A training step: gradients are recorded.</summary>
    public static NativeStep Training() => new(GcQuietRegion.Enter(), null);

    /// <summary>An evaluation or scoring step: no gradients (<c>torch.no_grad</c>).</summary>
    public static NativeStep NoGrad() => Enter(() => torch.no_grad());

    /// <summary>
    /// A step whose results never meet autograd (a generated token): <c>torch.inference_mode</c>, which also skips the
    /// version counters and view tracking of every op.
    /// </summary>
    public static NativeStep Inference() => Enter(() => torch.inference_mode());

    private static NativeStep Enter(Func<IDisposable> gradMode)
    {
        var quiet = GcQuietRegion.Enter();
        try
        {
            return new NativeStep(quiet, gradMode());
        }
        catch
        {
            quiet.Dispose();
            throw;
        }
    }

    /// <summary>Restores the gradient mode and lets finalizers run again.</summary>
    public void Dispose()
    {
        gradMode?.Dispose();
        quiet.Dispose();
    }
}
