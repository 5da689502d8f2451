using System.Numerics;
using Mhc.Models.Layers;

namespace Mhc.Models.Fused;

/// <summary>
/// The first half of a hyper-connection, fused: from the streams X (rows x n x M), each row's RMS scale r, its
/// coefficients from the projection Phi v (see <see cref="MixingCoefficients"/>) and the branch input
/// u = sum_k H_pre[k] X[k] (mHC eq. 3, 5-9), in one pass over X; and its backward in two passes: the coefficients'
/// gradient (taking the gradient of the output streams that the second half, <see cref="MixOutKernel"/>, left to
/// it), then the whole gradient of X at once.
/// </summary>
/// <remarks>
/// For per-token states the products with Phi (Phi v forward; Phi^T (dm r) and Phi's gradient backward) are whole
/// matrix products done by libtorch's GEMM on the rows seen as (rows, n M), which runs them several times faster than
/// row-by-row dot products; pooled states are small, and are projected here.
/// </remarks>
internal static unsafe class MixInKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    [ThreadStatic] private static Workspace? workspace;

    /// <summary>The raw inputs and parameters of one call.</summary>
    public readonly struct Inputs
    {
        public Inputs(float* x, long rows, int features, float* phi, float[] gates, float[] biases)
        {
            X = x;
            Rows = rows;
            Features = features;
            Phi = phi;
            Gates = gates;
            Biases = biases;
        }

        /// <summary>Streams, rows x n x M.</summary>
        public float* X { get; }

        /// <summary>Rows (tokens or samples).</summary>
        public long Rows { get; }

        /// <summary>Features M per stream and row.</summary>
        public int Features { get; }

        /// <summary>The dynamic projection, Q x D.</summary>
        public float* Phi { get; }

        /// <summary>alpha_pre, alpha_post, alpha_res.</summary>
        public float[] Gates { get; }

        /// <summary>b_pre, b_post, b_res in coefficient order (Q).</summary>
        public float[] Biases { get; }
    }

    /// <summary>
    /// Writes the branch input <paramref name="u"/> (rows x M), the coefficients (rows x Q) and each row's r
    /// (<paramref name="r"/>, rows). <paramref name="projected"/> (rows x Q) holds Phi v for per-token states (read)
    /// and receives it for pooled ones.
    /// </summary>
    public static void Forward(MixingSpec spec, Inputs input, float* projected, float* r, float* u, float* coefficients)
    {
        nint uAddress = (nint)u, cAddress = (nint)coefficients, pA = (nint)projected, rA = (nint)r;
        long groups = (input.Rows + Lanes - 1) / Lanes;
        var clock = new PhaseClock();
        KernelParallel.For(groups, 4, (start, end) =>
        {
            var ws = Workspace.For(spec);
            long projectTicks = 0, coefficientTicks = 0;
            for (long g = start; g < end; g++)
            {
                long first = g * Lanes;
                long t0 = clock.Now();
                StateGroup(spec, input, first, ws, (float*)pA, (float*)rA);
                long t1 = clock.Now();
                MixingCoefficients.Forward(spec, ws.Projected, ws.R, input.Gates, input.Biases, ws.Coefficients);
                projectTicks += t1 - t0;
                coefficientTicks += clock.Now() - t1;
                VectorOps.Scatter((float*)cAddress, first, input.Rows, spec.Q, spec.Q, ws.Coefficients, ws.Stage);
                int lanes = (int)Math.Min(Lanes, input.Rows - first);
                for (int l = 0; l < lanes; l++)
                {
                    long t = first + l;
                    ReadOut(input.X + t * spec.N * input.Features, (float*)cAddress + t * spec.Q, spec.N, input.Features,
                        (float*)uAddress + t * input.Features);
                }
            }
            clock.Add(projectTicks, coefficientTicks);
        });
        clock.Report(spec);
    }

    /// <summary>
    /// First pass of the backward: each row's coefficient gradient (from du, the deferred dOut and
    /// <paramref name="dCoefficients"/>) taken through the activations and Sinkhorn to dmr = d(Phi v) r
    /// (<paramref name="dmr"/>, rows x Q) and the norm's factor (<paramref name="scale"/>, rows: the state's gradient
    /// is scale v + Phi^T dmr); the gates' and biases' gradients; for pooled states, the states (rows x D).
    /// </summary>
    /// <param name="spec">The connection's settings.</param>
    /// <param name="input">The forward's inputs.</param>
    /// <param name="projected">The forward's Phi v (rows x Q).</param>
    /// <param name="r">The forward's r (rows).</param>
    /// <param name="du">Gradient of the branch input, rows x M (null: zero).</param>
    /// <param name="dCoefficients">Gradient of the coefficients from elsewhere, rows x Q (null: zero).</param>
    /// <param name="dOut">Gradient of the output streams that the second half deferred, rows x n x M (null: none).</param>
    /// <param name="dmr">Receives the gradient of Phi v, times r.</param>
    /// <param name="scale">Receives the norm's factor per row.</param>
    /// <param name="gateGradient">Receives the gates' gradient (3).</param>
    /// <param name="biasGradient">Receives the biases' gradient (Q).</param>
    /// <param name="states">Receives the pooled states (pooled state only; else null).</param>
    public static void BackwardCoefficients(MixingSpec spec, Inputs input, float* projected, float* r, float* du, float* dCoefficients,
        float* dOut, float* dmr, float* scale, float[] gateGradient, float[] biasGradient, float* states)
    {
        nint pA = (nint)projected, rA = (nint)r, duA = (nint)du, dcA = (nint)dCoefficients, dOutA = (nint)dOut, dmrA = (nint)dmr;
        nint scaleA = (nint)scale, statesA = (nint)states;
        long groups = (input.Rows + Lanes - 1) / Lanes;
        var gate = new double[3];
        var bias = new double[spec.Q];
        object gateLock = new();
        var clock = new PhaseClock();
        KernelParallel.For(groups, 4, (start, end) =>
        {
            long coefficientTicks = 0;
            var ws = Workspace.For(spec);
            var gates = ws.GateGradient;
            var biases = ws.BiasGradient;
            Array.Clear(gates);
            Array.Clear(biases);
            int n = spec.N, m = input.Features, q = spec.Q;
            for (long g = start; g < end; g++)
            {
                long first = g * Lanes;
                int lanes = (int)Math.Min(Lanes, input.Rows - first);
                VectorOps.Gather((float*)pA, first, input.Rows, q, q, ws.Projected, ws.Stage);
                ws.R = GatherScalars((float*)rA, first, input.Rows);
                if (statesA != 0)
                    for (int l = 0; l < lanes; l++) Pool(spec, input, first + l, (float*)statesA + (first + l) * spec.StateLength);
                // Gradient of every coefficient of the group's rows, one row per lane.
                for (int l = 0; l < Lanes; l++)
                {
                    for (int k = 0; k < q; k++) ws.Stage[k * Lanes + l] = 0f;
                    if (l >= lanes) continue;
                    long t = first + l;
                    float* xRow = input.X + t * n * m;
                    if (dcA != 0)
                        for (int k = 0; k < q; k++) ws.Stage[k * Lanes + l] = ((float*)dcA)[t * q + k];
                    if (duA != 0)
                        for (int k = 0; k < n; k++) ws.Stage[k * Lanes + l] += VectorOps.Dot(xRow + k * m, (float*)duA + t * m, m);
                    if (dOutA != 0)
                        for (int i = 0; i < n; i++)
                            for (int j = 0; j < n; j++)
                                ws.Stage[(2 * n + i * n + j) * Lanes + l] += VectorOps.Dot((float*)dOutA + (t * n + i) * m, xRow + j * m, m);
                }
                for (int k = 0; k < q; k++) ws.Gradient[k] = new Vector<float>(ws.Stage, k * Lanes);
                long t1 = clock.Now();
                var dr = MixingCoefficients.Backward(spec, ws.Projected, ws.R, input.Gates, input.Biases, ws.Gradient,
                    gates, biases, ws.Scratch);
                coefficientTicks += clock.Now() - t1;
                VectorOps.Scatter((float*)dmrA, first, input.Rows, q, q, ws.Gradient, ws.Stage);
                // r = (|v|^2 / D + eps)^(-1/2): dv = dr * (-r^3 / D) * v.
                var factor = -dr * ws.R * ws.R * ws.R / spec.StateLength;
                for (int l = 0; l < lanes; l++) ((float*)scaleA)[first + l] = factor[l];
            }
            lock (gateLock)
            {
                for (int k = 0; k < 3; k++) gate[k] += Vector.Sum(gates[k]);
                for (int k = 0; k < q; k++) bias[k] += Vector.Sum(biases[k]);
            }
            clock.Add(0, coefficientTicks);
        });
        clock.Report(spec);
        for (int k = 0; k < 3; k++) gateGradient[k] = (float)gate[k];
        for (int k = 0; k < spec.Q; k++) biasGradient[k] = (float)bias[k];
    }

    /// <summary>
    /// Second pass of the backward: dX[j] = sum_i H_res[i, j] dOut[i] + H_pre[j] du + the state's gradient, read
    /// back into X: per token, scale v + <paramref name="phiTerm"/> (Phi^T dmr, rows x n M, which
    /// <paramref name="dx"/> may overwrite); pooled, scale v + Phi^T dmr per channel spread over its positions.
    /// </summary>
    public static void BackwardInput(MixingSpec spec, Inputs input, float* coefficients, float* du, float* dOut, float* dmr,
        float* scale, float* states, float* phiTerm, float* dx)
    {
        nint cA = (nint)coefficients, duA = (nint)du, dOutA = (nint)dOut, dmrA = (nint)dmr, scaleA = (nint)scale;
        nint statesA = (nint)states, phiA = (nint)phiTerm, dxA = (nint)dx;
        int n = spec.N, m = input.Features, q = spec.Q;
        KernelParallel.For(input.Rows, Math.Max(1, 16384 / Math.Max(1, n * m)), (start, end) =>
        {
            for (long t = start; t < end; t++)
                WriteInputGradient(spec, input, t, (float*)cA + t * q, duA == 0 ? null : (float*)duA + t * m,
                    dOutA == 0 ? null : (float*)dOutA + t * n * m, (float*)dmrA + t * q, ((float*)scaleA)[t],
                    statesA == 0 ? null : (float*)statesA + t * spec.StateLength, phiA == 0 ? null : (float*)phiA + t * n * m,
                    (float*)dxA + t * n * m);
        });
    }

    private static Vector<float> GatherScalars(float* values, long first, long count)
    {
        Span<float> lanes = stackalloc float[Lanes];
        for (int l = 0; l < Lanes; l++) lanes[l] = first + l < count ? values[first + l] : 1f;   // 1 keeps missing lanes finite
        return new Vector<float>(lanes);
    }

    /// <summary>
    /// Each lane's r and Phi v for the group of rows starting at <paramref name="first"/>, into the workspace; r is
    /// written to <paramref name="r"/>. Per token, Phi v is read from <paramref name="projected"/>; pooled, it is
    /// computed here and written there.
    /// </summary>
    private static void StateGroup(MixingSpec spec, Inputs input, long first, Workspace ws, float* projected, float* r)
    {
        int lanes = (int)Math.Min(Lanes, input.Rows - first);
        int d = spec.StateLength, q = spec.Q;
        Span<float> rLanes = stackalloc float[Lanes];
        Span<float> four = stackalloc float[4];
        bool pooled = spec.State != MixingState.PerToken;
        fixed (float* pool = ws.Pooled)
        {
            for (int l = 0; l < Lanes; l++)
            {
                if (l >= lanes)
                {
                    rLanes[l] = 1f;                                    // keeps missing lanes finite
                    if (pooled) for (int e = 0; e < q; e++) ws.Stage[e * Lanes + l] = 0f;
                    continue;
                }
                long t = first + l;
                float* state = pooled ? pool + l * d : input.X + t * spec.N * input.Features;
                if (pooled) Pool(spec, input, t, state);
                rLanes[l] = r[t] = 1f / MathF.Sqrt(VectorOps.SumOfSquares(state, d) / d + spec.NormEpsilon);
                if (!pooled) continue;
                float* phi = input.Phi;
                int k = 0;
                for (; k + 4 <= q; k += 4)
                {
                    VectorOps.Dot4(phi + (long)k * d, phi + (long)(k + 1) * d, phi + (long)(k + 2) * d, phi + (long)(k + 3) * d, state, d, four);
                    for (int i = 0; i < 4; i++) projected[t * q + k + i] = four[i];
                }
                for (; k < q; k++) projected[t * q + k] = VectorOps.Dot(phi + (long)k * d, state, d);
            }
        }
        VectorOps.Gather(projected, first, input.Rows, q, q, ws.Projected, ws.Stage);
        ws.R = new Vector<float>(rLanes);
    }

    /// <summary>The pooled state of row <paramref name="t"/> (the mean over positions of every stream channel) into <paramref name="target"/>.</summary>
    private static void Pool(MixingSpec spec, Inputs input, long t, float* target)
    {
        float* row = input.X + t * spec.N * input.Features;
        int channels = spec.StateChannels, spatial = input.Features / channels;
        for (int k = 0; k < spec.StateLength; k++)
            target[k] = VectorOps.Sum(row + (long)k * spatial, spatial) / spatial;
    }

    /// <summary>u = sum_k pre[k] X[k] for one row.</summary>
    private static void ReadOut(float* x, float* coefficients, int n, int m, float* u)
    {
        Span<Vector<float>> pre = stackalloc Vector<float>[n];
        VectorOps.Broadcast(coefficients, n, pre);
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
        {
            var acc = VectorOps.Load(x + c) * pre[0];
            for (int k = 1; k < n; k++) acc += VectorOps.Load(x + k * m + c) * pre[k];
            VectorOps.Store(u + c, acc);
        }
        for (; c < m; c++)
        {
            float acc = 0;
            for (int k = 0; k < n; k++) acc += x[k * m + c] * coefficients[k];
            u[c] = acc;
        }
    }

    /// <summary>dX of one row (see <see cref="BackwardInput"/>).</summary>
    private static void WriteInputGradient(MixingSpec spec, Inputs input, long t, float* coefficients, float* du, float* dOut,
        float* dmr, float scale, float* state, float* phiTerm, float* dx)
    {
        int n = spec.N, m = input.Features, q = spec.Q, d = spec.StateLength;
        float* x = input.X + t * n * m;
        float* res = coefficients + 2 * n;
        Span<Vector<float>> resV = stackalloc Vector<float>[n * n];
        VectorOps.Broadcast(res, n * n, resV);
        var scaleV = new Vector<float>(scale);
        if (spec.State == MixingState.PerToken)
        {
            for (int j = 0; j < n; j++)
            {
                var preV = new Vector<float>(coefficients[j]);
                int c = 0;
                for (; c + Lanes <= m; c += Lanes)
                {
                    var acc = VectorOps.Load(phiTerm + j * m + c) + VectorOps.Load(x + j * m + c) * scaleV;
                    if (du != null) acc += VectorOps.Load(du + c) * preV;
                    if (dOut != null)
                        for (int i = 0; i < n; i++) acc += VectorOps.Load(dOut + i * m + c) * resV[i * n + j];
                    VectorOps.Store(dx + j * m + c, acc);
                }
                for (; c < m; c++)
                {
                    float acc = phiTerm[j * m + c] + x[j * m + c] * scale;
                    if (du != null) acc += du[c] * coefficients[j];
                    if (dOut != null)
                        for (int i = 0; i < n; i++) acc += dOut[i * m + c] * res[i * n + j];
                    dx[j * m + c] = acc;
                }
            }
            return;
        }
        // Pooled state: dv per stream channel, then spread evenly over that channel's positions.
        int channels = spec.StateChannels, spatial = m / channels;
        for (int j = 0; j < n; j++)
        {
            var preV = new Vector<float>(coefficients[j]);
            for (int ch = 0; ch < channels; ch++)
            {
                int e = j * channels + ch;
                float dv = scale * state[e];
                for (int k = 0; k < q; k++) dv += input.Phi[(long)k * d + e] * dmr[k];
                float spread = dv / spatial;
                int start = ch * spatial, stop = start + spatial, c = start;
                var spreadVector = new Vector<float>(spread);
                for (; c + Lanes <= stop; c += Lanes)
                {
                    var acc = spreadVector;
                    if (du != null) acc += VectorOps.Load(du + c) * preV;
                    if (dOut != null)
                        for (int i = 0; i < n; i++) acc += VectorOps.Load(dOut + i * m + c) * resV[i * n + j];
                    VectorOps.Store(dx + j * m + c, acc);
                }
                for (; c < stop; c++)
                {
                    float acc = spread;
                    if (du != null) acc += du[c] * coefficients[j];
                    if (dOut != null)
                        for (int i = 0; i < n; i++) acc += dOut[i * m + c] * res[i * n + j];
                    dx[j * m + c] = acc;
                }
            }
        }
    }

    /// <summary>
    /// Times the kernel's phases for a running <see cref="MixingProfiler"/>: the state and its projection (phi_norm),
    /// and the coefficients (sinkhorn for mHC, where Sinkhorn is nearly all of it; phi_norm for HC).
    /// </summary>
    private sealed class PhaseClock
    {
        private readonly bool on = MixingProfiler.Active is not null;
        private long project;
        private long coefficients;

        public long Now() => on ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;

        public void Add(long projectTicks, long coefficientTicks)
        {
            if (!on) return;
            Interlocked.Add(ref project, projectTicks);
            Interlocked.Add(ref coefficients, coefficientTicks);
        }

        public void Report(MixingSpec spec)
        {
            if (!on) return;
            MixingProfiler.Attribute(MixingProfiler.PhiNorm, project);
            MixingProfiler.Attribute(spec.Constrained ? MixingProfiler.Sinkhorn : MixingProfiler.PhiNorm, coefficients);
        }
    }

    /// <summary>Per-thread scratch, reused across calls while the shapes allow.</summary>
    private sealed class Workspace
    {
        private Workspace(MixingSpec spec)
        {
            Q = spec.Q;
            D = spec.StateLength;
            Pooled = GC.AllocateArray<float>(Lanes * Math.Max(1, D), pinned: true);
            Stage = new float[Q * Lanes];
            Projected = new Vector<float>[Q];
            Coefficients = new Vector<float>[Q];
            Gradient = new Vector<float>[Q];
            GateGradient = new Vector<float>[3];
            BiasGradient = new Vector<float>[Q];
            Scratch = new Vector<float>[MixingCoefficients.ScratchLength(spec)];
            ScratchLength = Scratch.Length;
        }

        public int Q { get; }
        public int D { get; }
        public int ScratchLength { get; }
        public float[] Pooled { get; }
        public float[] Stage { get; }
        public Vector<float>[] Projected { get; }
        public Vector<float>[] Coefficients { get; }
        public Vector<float>[] Gradient { get; }
        public Vector<float>[] GateGradient { get; }
        public Vector<float>[] BiasGradient { get; }
        public Vector<float>[] Scratch { get; }
        public Vector<float> R { get; set; }

        public static Workspace For(MixingSpec spec)
        {
            var ws = workspace;
            if (ws is null || ws.Q != spec.Q || ws.D < spec.StateLength || ws.ScratchLength < MixingCoefficients.ScratchLength(spec))
                workspace = ws = new Workspace(spec);
            return ws;
        }
    }
}
