using Mhc.Models.Fused;
using static TorchSharp.torch;

namespace Mhc.Models.Constraints;

/// <summary>How the Sinkhorn-Knopp iteration starts and in which domain it runs.</summary>
public enum SinkhornVariant
{
    /// <summary>The paper's form (mHC eq. 8-9): M = exp(H~), then alternate column and row normalisation.</summary>
    ExpFirst,
    /// <summary>DeepSeek's kernel reference: softmax first, then alternate with an epsilon in each division.</summary>
    SoftmaxFirst,
    /// <summary>The same fixed point computed with log-sum-exp normalisations; stable for large logits.</summary>
    LogDomain,
}

/// <summary>
/// Projects square logits H~ (..., n, n) onto (approximately) doubly stochastic matrices by
/// Sinkhorn-Knopp, mHC eq. (8)-(9). Our convention is that row i of the result mixes streams into
/// output stream i: X'[i] = sum_j H[i, j] X[j]. Every iteration normalises columns, then rows, so
/// after the last one the rows sum to one exactly and the columns approximately.
/// </summary>
/// <remarks>
/// DeepSeek's reference (TileKernels <c>mhc.py</c>) stores the transpose, comb[j, i] = H[i, j], and
/// applies it as <c>einsum('mn,mc->nc')</c>; its softmax over the last axis of comb is a softmax over
/// our columns. <see cref="SinkhornVariant.SoftmaxFirst"/> reproduces that computation in our
/// convention.
/// </remarks>
public sealed class SinkhornProjection : IMixingConstraint
{
    /// <summary>Creates a projection.</summary>
    /// <param name="iterations">Column-then-row normalisation rounds (paper: 20).</param>
    /// <param name="variant">Start and domain of the iteration.</param>
    /// <param name="epsilon">Added in each division by <see cref="SinkhornVariant.SoftmaxFirst"/> (DeepSeek: 1e-6).</param>
    public SinkhornProjection(int iterations = 20, SinkhornVariant variant = SinkhornVariant.ExpFirst, double epsilon = 1e-6)
    {
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "Sinkhorn needs at least one iteration.");
        Iterations = iterations;
        Variant = variant;
        Epsilon = epsilon;
    }

    /// <summary>Normalisation rounds.</summary>
    public int Iterations { get; }

    /// <summary>The iteration variant.</summary>
    public SinkhornVariant Variant { get; }

    /// <summary>Division guard used by <see cref="SinkhornVariant.SoftmaxFirst"/>.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public string Name => $"sinkhorn-{Variant.ToString().ToLowerInvariant()}-{Iterations}";

    /// <inheritdoc />
    /// <remarks>
    /// On the CPU the projection is one autograd node (<see cref="SinkhornFunction"/>) whose forward and backward run
    /// in a fused kernel; elsewhere it is the unrolled iteration (<see cref="ProjectUnrolled"/>). Both compute the same
    /// operations; the tests hold them to 1e-5.
    /// </remarks>
    public Tensor Project(Tensor logits)
    {
        CheckSquare(logits);
        using var scope = NewDisposeScope();
        var x = logits.to_type(ScalarType.Float32).contiguous();
        var result = TensorMemory.IsKernelReady(x) ? SinkhornFunction.Project(x, this) : Unrolled(x);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The projection as unrolled tensor operations (autograd records every iteration): the reference.</summary>
    internal Tensor ProjectUnrolled(Tensor logits)
    {
        CheckSquare(logits);
        using var scope = NewDisposeScope();
        return Unrolled(logits.to_type(ScalarType.Float32)).MoveToOuterDisposeScope();
    }

    private static void CheckSquare(Tensor logits)
    {
        if (logits.dim() < 2 || logits.shape[^1] != logits.shape[^2])
            throw new ArgumentException($"Sinkhorn needs square matrices in the last two axes; got shape [{string.Join(", ", logits.shape)}].", nameof(logits));
    }

    private Tensor Unrolled(Tensor x) => Variant switch
    {
        SinkhornVariant.ExpFirst => ExpFirst(x),
        SinkhornVariant.SoftmaxFirst => SoftmaxFirst(x),
        _ => LogDomain(x),
    };

    private Tensor ExpFirst(Tensor x)
    {
        // Subtracting the per-matrix max changes nothing after normalisation (shift invariance)
        // but keeps exp() finite for large logits.
        var max = x.amax(new long[] { -2, -1 }, keepdim: true).detach();
        var m = (x - max).exp();
        for (int k = 0; k < Iterations; k++)
        {
            m = m / m.sum(-2, keepdim: true);
            m = m / m.sum(-1, keepdim: true);
        }
        return m;
    }

    private Tensor SoftmaxFirst(Tensor x)
    {
        var m = x.softmax(-2) + Epsilon;
        m = m / (m.sum(-1, keepdim: true) + Epsilon);
        for (int k = 1; k < Iterations; k++)
        {
            m = m / (m.sum(-2, keepdim: true) + Epsilon);
            m = m / (m.sum(-1, keepdim: true) + Epsilon);
        }
        return m;
    }

    private Tensor LogDomain(Tensor x)
    {
        var l = x;
        for (int k = 0; k < Iterations; k++)
        {
            l = l - l.logsumexp(-2, keepdim: true);
            l = l - l.logsumexp(-1, keepdim: true);
        }
        return l.exp();
    }
}
