using System.Numerics;
using Mhc.Models.Layers;

namespace Mhc.Models.Fused;

/// <summary>
/// The first half of a hyper-connection, fused: from the streams X (rows x n x M) and Phi, each row's state v, its
/// RMS scale r, the projection Phi v, the coefficients (see <see cref="MixingCoefficients"/>) and the branch input
/// u = sum_k H_pre[k] X[k] (mHC eq. 3, 5-9), in one pass over X; and its backward, which also takes the gradient of
/// the output streams that the second half (<see cref="MixOutKernel"/>) left to it, so the whole gradient of X is
/// written in one pass.
/// </summary>
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

    /// <summary>Writes the branch input <paramref name="u"/> (rows x M) and the coefficients (rows x Q).</summary>
    public static void Forward(MixingSpec spec, Inputs input, float* u, float* coefficients)
    {
        nint uAddress = (nint)u, cAddress = (nint)coefficients;
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
                ProjectGroup(spec, input, first, ws);
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
    /// The gradient of X (<paramref name="dx"/>, written whole), of Phi v scaled by r per row (<paramref name="dmr"/>,
    /// rows x Q, for Phi's gradient), and the summed gradients of the gates (3) and biases (Q).
    /// </summary>
    /// <param name="spec">The connection's settings.</param>
    /// <param name="input">The forward's inputs.</param>
    /// <param name="coefficients">The forward's coefficients (rows x Q).</param>
    /// <param name="du">Gradient of the branch input, rows x M (null: zero).</param>
    /// <param name="dCoefficients">Gradient of the coefficients from elsewhere, rows x Q (null: zero).</param>
    /// <param name="dOut">Gradient of the output streams that the second half deferred, rows x n x M (null: none).</param>
    /// <param name="dx">Receives the gradient of X.</param>
    /// <param name="dmr">Receives the gradient of Phi v times r.</param>
    /// <param name="gateGradient">Receives the gates' gradient (3).</param>
    /// <param name="biasGradient">Receives the biases' gradient (Q).</param>
    /// <param name="states">Receives the pooled states, rows x D, for Phi's gradient (pooled state only; else null).</param>
    public static void Backward(MixingSpec spec, Inputs input, float* coefficients, float* du, float* dCoefficients, float* dOut,
        float* dx, float* dmr, float[] gateGradient, float[] biasGradient, float* states)
    {
        nint c = (nint)coefficients, duA = (nint)du, dcA = (nint)dCoefficients, dOutA = (nint)dOut, dxA = (nint)dx, dmrA = (nint)dmr;
        nint statesA = (nint)states;
        long groups = (input.Rows + Lanes - 1) / Lanes;
        var gate = new double[3];
        var bias = new double[spec.Q];
        object gateLock = new();
        var clock = new PhaseClock();
        KernelParallel.For(groups, 4, (start, end) =>
        {
            long projectTicks = 0, coefficientTicks = 0;
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
                long t0 = clock.Now();
                ProjectGroup(spec, input, first, ws);
                projectTicks += clock.Now() - t0;
                if (statesA != 0)
                    fixed (float* pooled = ws.Pooled)
                        Buffer.MemoryCopy(pooled, (float*)statesA + first * spec.StateLength, (long)lanes * spec.StateLength * sizeof(float),
                            (long)lanes * spec.StateLength * sizeof(float));
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
                var scale = -dr * ws.R * ws.R * ws.R / spec.StateLength;
                for (int l = 0; l < lanes; l++)
                {
                    long t = first + l;
                    WriteInputGradient(spec, input, t, (float*)c + t * q, duA == 0 ? null : (float*)duA + t * m,
                        dOutA == 0 ? null : (float*)dOutA + t * n * m, (float*)dmrA + t * q, scale[l], ws, l, (float*)dxA + t * n * m);
                }
            }
            lock (gateLock)
            {
                for (int k = 0; k < 3; k++) gate[k] += Vector.Sum(gates[k]);
                for (int k = 0; k < q; k++) bias[k] += Vector.Sum(biases[k]);
            }
            clock.Add(projectTicks, coefficientTicks);
        });
        clock.Report(spec);
        for (int k = 0; k < 3; k++) gateGradient[k] = (float)gate[k];
        for (int k = 0; k < spec.Q; k++) biasGradient[k] = (float)bias[k];
    }

    /// <summary>Each lane's state v, r and Phi v, for the group of rows starting at <paramref name="first"/>.</summary>
    private static void ProjectGroup(MixingSpec spec, Inputs input, long first, Workspace ws)
    {
        int lanes = (int)Math.Min(Lanes, input.Rows - first);
        int d = spec.StateLength, q = spec.Q;
        Span<float> r = stackalloc float[Lanes];
        Span<float> four = stackalloc float[4];
        for (int l = 0; l < Lanes; l++)
        {
            if (l >= lanes)
            {
                r[l] = 1f;                                         // keeps missing lanes finite
                for (int e = 0; e < q; e++) ws.Stage[e * Lanes + l] = 0f;
                continue;
            }
            float* state = State(spec, input, first + l, ws, l);
            r[l] = 1f / MathF.Sqrt(VectorOps.SumOfSquares(state, d) / d + spec.NormEpsilon);
            float* phi = input.Phi;
            int k = 0;
            for (; k + 4 <= q; k += 4)
            {
                VectorOps.Dot4(phi + (long)k * d, phi + (long)(k + 1) * d, phi + (long)(k + 2) * d, phi + (long)(k + 3) * d, state, d, four);
                for (int i = 0; i < 4; i++) ws.Stage[(k + i) * Lanes + l] = four[i];
            }
            for (; k < q; k++) ws.Stage[k * Lanes + l] = VectorOps.Dot(phi + (long)k * d, state, d);
        }
        for (int k = 0; k < q; k++) ws.Projected[k] = new Vector<float>(ws.Stage, k * Lanes);
        ws.R = new Vector<float>(r);
    }

    /// <summary>The state of row <paramref name="t"/>: the row itself, or its per-channel means kept in the workspace.</summary>
    private static float* State(MixingSpec spec, Inputs input, long t, Workspace ws, int lane)
    {
        float* row = input.X + t * spec.N * input.Features;
        if (spec.State == MixingState.PerToken) return row;
        int channels = spec.StateChannels, spatial = input.Features / channels;
        fixed (float* pooled = ws.Pooled)
        {
            float* target = pooled + lane * spec.StateLength;
            for (int k = 0; k < spec.StateLength; k++)
                target[k] = VectorOps.Sum(row + (long)k * spatial, spatial) / spatial;
            return target;   // ws.Pooled is a pinned-for-life array (see Workspace)
        }
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

    /// <summary>
    /// dX[j] = sum_i H_res[i, j] dOut[i] + H_pre[j] du + (the state's gradient: scale v + Phi^T dmr, read back
    /// into X directly per token or spread over the pooled positions).
    /// </summary>
    private static void WriteInputGradient(MixingSpec spec, Inputs input, long t, float* coefficients, float* du, float* dOut,
        float* dmr, float scale, Workspace ws, int lane, float* dx)
    {
        int n = spec.N, m = input.Features, q = spec.Q, d = spec.StateLength;
        float* x = input.X + t * n * m;
        float* res = coefficients + 2 * n;
        Span<Vector<float>> resV = stackalloc Vector<float>[n * n];
        VectorOps.Broadcast(res, n * n, resV);
        if (spec.State == MixingState.PerToken)
        {
            Span<Vector<float>> dmrV = stackalloc Vector<float>[q];
            VectorOps.Broadcast(dmr, q, dmrV);
            var scaleV = new Vector<float>(scale);
            for (int j = 0; j < n; j++)
            {
                var preV = new Vector<float>(coefficients[j]);
                float* phiColumn = input.Phi + j * m;
                int c = 0;
                for (; c + Lanes <= m; c += Lanes)
                {
                    var acc = VectorOps.Load(x + j * m + c) * scaleV;
                    for (int k = 0; k < q; k++) acc += VectorOps.Load(phiColumn + (long)k * d + c) * dmrV[k];
                    if (du != null) acc += VectorOps.Load(du + c) * preV;
                    if (dOut != null)
                        for (int i = 0; i < n; i++) acc += VectorOps.Load(dOut + i * m + c) * resV[i * n + j];
                    VectorOps.Store(dx + j * m + c, acc);
                }
                for (; c < m; c++)
                {
                    float acc = x[j * m + c] * scale;
                    for (int k = 0; k < q; k++) acc += input.Phi[(long)k * d + j * m + c] * dmr[k];
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
        fixed (float* pooled = ws.Pooled)
        {
            float* v = pooled + lane * d;
            for (int j = 0; j < n; j++)
                for (int ch = 0; ch < channels; ch++)
                {
                    int e = j * channels + ch;
                    float dv = scale * v[e];
                    for (int k = 0; k < q; k++) dv += input.Phi[(long)k * d + e] * dmr[k];
                    float spread = dv / spatial;
                    int start = ch * spatial, stop = start + spatial, c = start;
                    var spreadVector = new Vector<float>(spread);
                    for (; c + Lanes <= stop; c += Lanes)
                    {
                        var acc = spreadVector;
                        if (du != null) acc += VectorOps.Load(du + c) * coefficients[j];
                        if (dOut != null)
                            for (int i = 0; i < n; i++) acc += VectorOps.Load(dOut + i * m + c) * res[i * n + j];
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
