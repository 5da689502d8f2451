using System.Numerics;
using System.Runtime.CompilerServices;
using Mhc.Models.Layers;

namespace Mhc.Models.Fused;

/// <summary>
/// The first half of a hyper-connection, fused: from the streams X (rows x n x M), each row's RMS scale r, its
/// coefficients from the projection Phi v (see <see cref="MixingCoefficients"/>) and the branch input
/// u = sum_k H_pre[k] X[k] (mHC eq. 3, 5-9), in one pass over X; and its backward: the coefficients' gradient
/// (taking the gradient of the output streams that the second half, <see cref="MixOutKernel"/>, left to it) and, in
/// the same pass, the whole gradient of X, group by group of rows while they are in cache (<see cref="PooledInput"/>,
/// <see cref="TokenInput"/>).
/// </summary>
/// <remarks>
/// For per-token states, Phi v forward and Phi's gradient backward are whole matrix products done by libtorch's GEMM
/// on the rows seen as (rows, n M); Phi^T (dm r), which the gradient of X needs row by row, is made here, two rows at a
/// time (<see cref="VectorOps.TransposedProduct"/>), so that it never goes to memory, while Phi fits the
/// first-level cache (<see cref="TokenInput.Fits"/>; otherwise a GEMM and a second pass, <see cref="BackwardInput"/>). Pooled states are small, and are
/// projected here (the forward keeps them for the backward). With n = 4 the per-row loops run in
/// <see cref="StreamMix4"/>, all streams of a chunk in registers.
/// </remarks>
internal static unsafe class MixInKernel
{
    private static readonly int Lanes = Vector<float>.Count;

    [ThreadStatic] private static Workspace? workspace;

    /// <summary>The raw inputs and parameters of one call.</summary>
    public readonly struct Inputs
    {
        public Inputs(float* x, long rows, int features, float* phi, float[] gates, float[] biases, bool shared = false, int phiColumns = 0)
        {
            X = x;
            Shared = shared;
            PhiColumns = phiColumns;
            Rows = rows;
            Features = features;
            Phi = phi;
            Gates = gates;
            Biases = biases;
        }

        /// <summary>Streams, rows x n x M; rows x M when <see cref="Shared"/>.</summary>
        public float* X { get; }

        /// <summary>
        /// Whether X holds one tensor whose n copies are the streams (pooled states only; see <see cref="SharedStreams"/>).
        /// </summary>
        public bool Shared { get; }

        /// <summary>Rows (tokens or samples).</summary>
        public long Rows { get; }

        /// <summary>Features M per stream and row.</summary>
        public int Features { get; }

        /// <summary>
        /// The dynamic projection, Q x D; for per-token states of shared streams, Q x C: Phi's n blocks of C columns
        /// summed (<see cref="PhiColumns"/>), since Phi (x, ..., x) = (sum_k Phi_k) x.
        /// </summary>
        public float* Phi { get; }

        /// <summary>Columns of <see cref="Phi"/> when they are not the state's length D (0: they are).</summary>
        public int PhiColumns { get; }

        /// <summary>alpha_pre, alpha_post, alpha_res.</summary>
        public float[] Gates { get; }

        /// <summary>b_pre, b_post, b_res in coefficient order (Q).</summary>
        public float[] Biases { get; }

        /// <summary>Row <paramref name="t"/> of X for <paramref name="n"/> streams.</summary>
        public float* Row(long t, int n) => X + t * (Shared ? 1 : n) * Features;
    }

    /// <summary>
    /// Writes the branch input <paramref name="u"/> (rows x M), the coefficients (rows x Q) and each row's r
    /// (<paramref name="r"/>, rows). <paramref name="projected"/> (rows x Q) holds Phi v for per-token states (read)
    /// and receives it for pooled ones, whose states go to <paramref name="states"/> (rows x D; null per token).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(MixingSpec spec, Inputs input, float* projected, float* r, float* u, float* coefficients, float* states)
    {
        nint uAddress = (nint)u, cAddress = (nint)coefficients, pA = (nint)projected, rA = (nint)r, sA = (nint)states;
        long groups = (input.Rows + Lanes - 1) / Lanes;
        var clock = new PhaseClock();
        KernelParallel.For(groups, 4, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            var ws = Workspace.For(spec);
            long projectTicks = 0, coefficientTicks = 0;
            for (long g = start; g < end; g++)
            {
                long first = g * Lanes;
                long t0 = clock.Now();
                StateGroup(spec, input, first, ws, (float*)pA, (float*)rA, (float*)sA);
                long t1 = clock.Now();
                MixingCoefficients.Forward(spec, ws.Projected, ws.R, input.Gates, input.Biases, ws.Coefficients);
                projectTicks += t1 - t0;
                coefficientTicks += clock.Now() - t1;
                VectorOps.Scatter((float*)cAddress, first, input.Rows, spec.Q, spec.Q, ws.Coefficients, ws.Stage);
                int lanes = (int)Math.Min(Lanes, input.Rows - first);
                for (int l = 0; l < lanes; l++)
                {
                    long t = first + l;
                    if (input.Shared)
                        SharedStreams.ReadOut(spec.N, input.Features, input.Row(t, spec.N), (float*)cAddress + t * spec.Q, (float*)uAddress + t * input.Features);
                    else
                        ReadOut(input.Row(t, spec.N), (float*)cAddress + t * spec.Q, spec.N, input.Features,
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
    /// is scale v + Phi^T dmr); the gates' and biases' gradients.
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
    /// <param name="pooledInput">
    /// Pooled states only, or null: the forward's coefficients, states and the gradient of X to write (see
    /// <see cref="PooledInput"/>).
    /// </param>
    /// <param name="tokenInput">
    /// Per-token states only, or null: the forward's coefficients and the gradient of X to write (see
    /// <see cref="TokenInput"/>).
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardCoefficients(MixingSpec spec, Inputs input, float* projected, float* r, float* du, float* dCoefficients,
        float* dOut, float* dmr, float* scale, float[] gateGradient, float[] biasGradient, PooledInput? pooledInput = null,
        TokenInput? tokenInput = null)
    {
        nint pA = (nint)projected, rA = (nint)r, duA = (nint)du, dcA = (nint)dCoefficients, dOutA = (nint)dOut, dmrA = (nint)dmr;
        nint scaleA = (nint)scale;
        long groups = (input.Rows + Lanes - 1) / Lanes;
        // Each group's share of the gates' and biases' gradients, summed in group order at the end: the same result
        // whatever the thread count and scheduling.
        var partial = new float[groups, 3 + spec.Q];
        var clock = new PhaseClock();
        var fused = pooledInput;
        if (fused is not null && spec.State == MixingState.PerToken)
            throw new ArgumentException("The input gradient is written with the coefficients only for pooled states.", nameof(pooledInput));
        if (tokenInput is not null && spec.State != MixingState.PerToken)
            throw new ArgumentException("TokenInput writes the input gradient of per-token states only.", nameof(tokenInput));
        // Per token, the rows go to threads in fixed blocks, each with its own share of Phi's gradient (TokenInput).
        int perBlock = tokenInput is null ? 1 : TokenInput.GroupsPerBlock;
        KernelParallel.For((groups + perBlock - 1) / perBlock, tokenInput is null ? 4 : 1, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (firstBlock, endBlock) =>
        {
            long start = firstBlock * perBlock, end = Math.Min(groups, endBlock * perBlock);
            long coefficientTicks = 0, phiTicks = 0;
            var ws = Workspace.For(spec);
            var gates = ws.GateGradient;
            var biases = ws.BiasGradient;
            int n = spec.N, m = input.Features, q = spec.Q;
            float* row = stackalloc float[q];
            float* products = stackalloc float[n + n * n];
            for (long g = start; g < end; g++)
            {
                Array.Clear(gates);
                Array.Clear(biases);
                long first = g * Lanes;
                int lanes = (int)Math.Min(Lanes, input.Rows - first);
                VectorOps.Gather((float*)pA, first, input.Rows, q, q, ws.Projected, ws.Stage);
                ws.R = GatherScalars((float*)rA, first, input.Rows);
                // Gradient of every coefficient of the group's rows, one row per lane: dH_pre[k] = du . X[k],
                // dH_res[i, j] = dOut[i] . X[j] (each pass over X gives n of them at once).
                for (int l = 0; l < Lanes; l++)
                {
                    for (int k = 0; k < q; k++) ws.Stage[k * Lanes + l] = 0f;
                    if (l >= lanes) continue;
                    long t = first + l;
                    float* xRow = input.Row(t, n);
                    for (int k = 0; k < q; k++) row[k] = dcA != 0 ? ((float*)dcA)[t * q + k] : 0f;
                    if (input.Shared)
                    {
                        // dH_res came with the write-in node's share of dx (SharedStreams.OutputGradient).
                        SharedStreams.CoefficientGradients(n, m, xRow, duA == 0 ? null : (float*)duA + t * m, products, products + n);
                        for (int k = 0; k < n; k++) row[k] += products[k];
                        for (int k = 0; k < n * n; k++) row[2 * n + k] += products[n + k];
                    }
                    else if (n == 4)
                    {
                        StreamMix4.CoefficientGradients(m, xRow, duA == 0 ? null : (float*)duA + t * m,
                            dOutA == 0 ? null : (float*)dOutA + t * n * m, products, products + n);
                        for (int k = 0; k < n; k++) row[k] += products[k];
                        for (int k = 0; k < n * n; k++) row[2 * n + k] += products[n + k];
                    }
                    else
                    {
                        if (duA != 0)
                        {
                            VectorOps.DotMany((float*)duA + t * m, xRow, m, n, m, products);
                            for (int k = 0; k < n; k++) row[k] += products[k];
                        }
                        if (dOutA != 0)
                            for (int i = 0; i < n; i++)
                            {
                                VectorOps.DotMany((float*)dOutA + (t * n + i) * m, xRow, m, n, m, products);
                                for (int j = 0; j < n; j++) row[2 * n + i * n + j] += products[j];
                            }
                    }
                    for (int k = 0; k < q; k++) ws.Stage[k * Lanes + l] = row[k];
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
                // Each row's whole dX in one pass, now that the group's dmr and scale give the state's term.
                if (fused is not null)
                    for (int l = 0; l < lanes; l++)
                    {
                        long t = first + l;
                        // Shared streams get the write-in node's share of dx (rows x M) where others get dOut (rows x n x M).
                        fused.WriteRow(spec, input, t, duA == 0 ? null : (float*)duA + t * m,
                            dOutA == 0 ? null : (float*)dOutA + t * (input.Shared ? 1 : n) * m,
                            (float*)dmrA + t * q, factor[l], ws.StateGradient);
                    }
                if (tokenInput is not null)
                    phiTicks += tokenInput.WriteGroup(spec, input, g / perBlock, first, lanes, (float*)dmrA, (float*)scaleA,
                        duA == 0 ? null : (float*)duA, dOutA == 0 ? null : (float*)dOutA, ws.PhiTerm, clock);
                for (int k = 0; k < 3; k++) partial[g, k] = Vector.Sum(gates[k]);
                for (int k = 0; k < q; k++) partial[g, 3 + k] = Vector.Sum(biases[k]);
            }
            clock.Add(phiTicks, coefficientTicks);
        });
        clock.Report(spec);
        var gate = new double[3];
        var bias = new double[spec.Q];
        for (long g = 0; g < groups; g++)
        {
            for (int k = 0; k < 3; k++) gate[k] += partial[g, k];
            for (int k = 0; k < spec.Q; k++) bias[k] += partial[g, 3 + k];
        }
        for (int k = 0; k < 3; k++) gateGradient[k] = (float)gate[k];
        for (int k = 0; k < spec.Q; k++) biasGradient[k] = (float)bias[k];
    }

    /// <summary>
    /// For pooled states, the gradient of X written during <see cref="BackwardCoefficients"/> instead of in a second
    /// pass: the state's part of dX[j] is one constant per stream channel (a mean's gradient spreads evenly), so once a
    /// group's dmr is known each of its rows' dX is written in one pass, mixing terms and constants together (not the
    /// mixing terms first and the constants added in a second pass over dX).
    /// </summary>
    internal sealed class PooledInput
    {
        private readonly nint coefficients, states, dx;

        /// <summary>The forward's coefficients (rows x Q) and states (rows x D), and dX to write (rows x n x M).</summary>
        public PooledInput(float* coefficients, float* states, float* dx)
        {
            this.coefficients = (nint)coefficients;
            this.states = (nint)states;
            this.dx = (nint)dx;
        }

        /// <summary>
        /// dX of row <paramref name="t"/>, written once: H_pre[j] du + sum_i H_res[i, j] dOut[i] plus the state's term,
        /// dv = scale v + Phi^T dmr, one constant per stream channel (a mean's gradient spreads evenly over its
        /// positions). <paramref name="dv"/> is scratch of D floats.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void WriteRow(MixingSpec spec, Inputs input, long t, float* du, float* dOut, float* dmr, float scale, float[] dv)
        {
            int n = spec.N, d = spec.StateLength, m = input.Features, channels = spec.StateChannels, spatial = m / channels;
            float* v = (float*)states + t * d;
            float* c = (float*)coefficients + t * spec.Q;
            fixed (float* g = dv)
            {
                for (int e = 0; e < d; e++) g[e] = scale * v[e];
                for (int k = 0; k < spec.Q; k++) VectorOps.AddScaled(g, input.Phi + (long)k * d, dmr[k], d);
                for (int e = 0; e < d; e++) g[e] /= spatial;
                if (input.Shared)
                {
                    // dx is the sum of the n streams' gradients: each channel takes the n streams' constants.
                    SharedStreams.SumOverStreams(n, channels, g, g);
                    // For shared streams the write-in node left its share of dx, not dOut (SharedStreams.OutputGradient).
                    SharedStreams.InputGradient(n, m, spatial, c, du, dOut, g, (float*)dx + t * m);
                    return;
                }
                float* row = (float*)dx + t * n * m;
                // Stream j's channel ch occupies columns [ch spatial, (ch + 1) spatial) of its M; its constant is g[j C + ch].
                float* constants = stackalloc float[n];
                for (int ch = 0; ch < channels; ch++)
                {
                    long offset = (long)ch * spatial;
                    for (int j = 0; j < n; j++) constants[j] = g[j * channels + ch];
                    ChannelRun(n, spatial, m, du == null ? null : du + offset, dOut == null ? null : dOut + offset, c, c + 2 * n, constants, row + offset);
                }
            }
        }
    }

    /// <summary>
    /// dX[j] over one channel's positions (<paramref name="length"/> columns; streams <paramref name="stride"/> apart):
    /// constants[j] + pre[j] du + sum_i res[i, j] dOut[i]; du or dOut may be null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelRun(int n, int length, long stride, float* du, float* dOut, float* pre, float* res, float* constants, float* dx)
    {
        int c = 0;
        if (n == 4 && du != null)
        {
            Vector<float> q0 = new(pre[0]), q1 = new(pre[1]), q2 = new(pre[2]), q3 = new(pre[3]);
            Vector<float> k0 = new(constants[0]), k1 = new(constants[1]), k2 = new(constants[2]), k3 = new(constants[3]);
            float* dx1 = dx + stride, dx2 = dx + 2 * stride, dx3 = dx + 3 * stride;
            if (dOut == null)
            {
                for (; c + Lanes <= length; c += Lanes)
                {
                    var u = VectorOps.Load(du + c);
                    VectorOps.Store(dx + c, VectorOps.Fma(u, q0, k0));
                    VectorOps.Store(dx1 + c, VectorOps.Fma(u, q1, k1));
                    VectorOps.Store(dx2 + c, VectorOps.Fma(u, q2, k2));
                    VectorOps.Store(dx3 + c, VectorOps.Fma(u, q3, k3));
                }
            }
            else
            {
                Vector<float> r00 = new(res[0]), r01 = new(res[1]), r02 = new(res[2]), r03 = new(res[3]);
                Vector<float> r10 = new(res[4]), r11 = new(res[5]), r12 = new(res[6]), r13 = new(res[7]);
                Vector<float> r20 = new(res[8]), r21 = new(res[9]), r22 = new(res[10]), r23 = new(res[11]);
                Vector<float> r30 = new(res[12]), r31 = new(res[13]), r32 = new(res[14]), r33 = new(res[15]);
                float* g1 = dOut + stride, g2 = dOut + 2 * stride, g3 = dOut + 3 * stride;
                for (; c + Lanes <= length; c += Lanes)
                {
                    var u = VectorOps.Load(du + c);
                    Vector<float> a = VectorOps.Load(dOut + c), b = VectorOps.Load(g1 + c), d = VectorOps.Load(g2 + c), e = VectorOps.Load(g3 + c);
                    // Column j of res: dx[j] = res[0, j] g0 + res[1, j] g1 + res[2, j] g2 + res[3, j] g3 + the rest.
                    VectorOps.Store(dx + c, Fma4(VectorOps.Fma(u, q0, k0), a, b, d, e, r00, r10, r20, r30));
                    VectorOps.Store(dx1 + c, Fma4(VectorOps.Fma(u, q1, k1), a, b, d, e, r01, r11, r21, r31));
                    VectorOps.Store(dx2 + c, Fma4(VectorOps.Fma(u, q2, k2), a, b, d, e, r02, r12, r22, r32));
                    VectorOps.Store(dx3 + c, Fma4(VectorOps.Fma(u, q3, k3), a, b, d, e, r03, r13, r23, r33));
                }
            }
        }
        for (int j = 0; j < n; j++)
            for (int k = c; k < length; k++)
            {
                float acc = constants[j];
                if (du != null) acc += pre[j] * du[k];
                if (dOut != null)
                    for (int i = 0; i < n; i++) acc += res[i * n + j] * dOut[i * stride + k];
                dx[j * stride + k] = acc;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Fma4(Vector<float> start, Vector<float> a, Vector<float> b, Vector<float> d, Vector<float> e,
        Vector<float> wa, Vector<float> wb, Vector<float> wd, Vector<float> we) =>
        VectorOps.Fma(e, we, VectorOps.Fma(d, wd, VectorOps.Fma(b, wb, VectorOps.Fma(a, wa, start))));

    /// <summary>
    /// For per-token states, the gradients of X and Phi made during <see cref="BackwardCoefficients"/>, group by group
    /// of rows, once the group's dmr and scale are known and its rows of X, du and dOut are still in cache:
    /// dX[j] = sum_i H_res[i, j] dOut[i] + H_pre[j] du + scale X[j] + (Phi^T dmr)[j], and dPhi += dmr v^T. Phi^T dmr is
    /// made for two rows at a time in a small buffer that stays in the first-level cache; dPhi is summed per fixed
    /// block of rows (<see cref="GroupsPerBlock"/> groups, whatever the thread count) and the blocks' shares in block
    /// order (<see cref="SumPhiGradient"/>), so that the result does not depend on the threads. X, du and dOut are read
    /// from memory once for the whole backward of the node, and nothing of the size of X but dX is written.
    /// </summary>
    internal sealed class TokenInput
    {
        /// <summary>Groups of rows per block of Phi's gradient.</summary>
        public const int GroupsPerBlock = 32;

        /// <summary>
        /// Whether Phi (Q x D floats) fits the first-level data cache (48 KB here), which the products row by row need:
        /// a larger Phi (the 64-block MLP's, D = 1024) streams from the second level for every pair of rows and runs at
        /// half the speed of libtorch's blocked GEMM, so <see cref="BackwardInput"/> and GEMMs take over.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static bool Fits(MixingSpec spec) => (long)spec.Q * spec.StateLength * sizeof(float) <= 48 * 1024;

        private readonly nint coefficients, dx, phiShares;

        /// <summary>
        /// The forward's coefficients (rows x Q), dX to write (rows x n x M) and the blocks' shares of Phi's gradient
        /// (<see cref="Blocks"/> x Q x n M, zeroed).
        /// </summary>
        public TokenInput(float* coefficients, float* dx, float* phiShares)
        {
            this.coefficients = (nint)coefficients;
            this.dx = (nint)dx;
            this.phiShares = (nint)phiShares;
        }

        /// <summary>Blocks of rows for <paramref name="rows"/> rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static long Blocks(long rows)
        {
            long groups = (rows + Lanes - 1) / Lanes;
            return (groups + GroupsPerBlock - 1) / GroupsPerBlock;
        }

        /// <summary>Phi's gradient (Q x D): the sum of the blocks' shares, in block order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void SumPhiGradient(float* shares, long blocks, int length, float* into)
        {
            new ReadOnlySpan<float>(shares, length).CopyTo(new Span<float>(into, length));
            for (long b = 1; b < blocks; b++) VectorOps.AddScaled(into, shares + b * length, 1f, length);
        }

        /// <summary>
        /// dX of rows [first, first + count) of block <paramref name="block"/> from the group's dmr and scale (whole
        /// arrays, indexed by row), and their share of Phi's gradient; du and dOut may be null.
        /// <paramref name="phiTerm"/> is scratch of 2 n M floats. Returns the ticks spent on the products with Phi
        /// (the norm and projection's part, for the profiler).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long WriteGroup(MixingSpec spec, Inputs input, long block, long first, int count, float* dmr, float* scale, float* du,
            float* dOut, float[] phiTerm, PhaseClock clock)
        {
            int n = spec.N, m = input.Features, q = spec.Q, d = input.Shared ? m : n * m;
            // Shared streams: Phi is summed over its n blocks (Q x M), the state's gradient is summed over the n copies,
            // and the share of Phi's gradient is one block, dmr x^T, that all n blocks take.
            float* share = (float*)phiShares + block * q * d;
            long ticks = 0;
            fixed (float* term = phiTerm)
            {
                for (int l = 0; l < count; l += 2)
                {
                    long t = first + l;
                    bool pair = l + 1 < count;
                    float* dmr1 = pair ? dmr + (t + 1) * q : null;
                    float* x0 = input.Row(t, n);
                    long t0 = clock.Now();
                    VectorOps.TransposedProduct(input.Phi, q, d, dmr + t * q, dmr1, term, term + d);
                    VectorOps.AddOuter(share, q, d, dmr + t * q, x0, dmr1, pair ? x0 + d : null);
                    ticks += clock.Now() - t0;
                    WriteRow(n, m, q, input, t, du, dOut, scale[t], term);
                    if (pair) WriteRow(n, m, q, input, t + 1, du, dOut, scale[t + 1], term + d);
                }
            }
            return ticks;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void WriteRow(int n, int m, int q, Inputs input, long t, float* du, float* dOut, float scale, float* term)
        {
            if (input.Shared)
            {
                // dOut is the write-in node's share of dx here (SharedStreams.OutputGradient).
                SharedStreams.TokenInputGradient(n, m, (float*)coefficients + t * q, du == null ? null : du + t * m,
                    dOut == null ? null : dOut + t * m, input.Row(t, n), scale, term, (float*)dx + t * m);
                return;
            }
            WriteInputGradient(n, m, (float*)coefficients + t * q, du == null ? null : du + t * m,
                dOut == null ? null : dOut + t * n * m, (float*)dx + t * n * m, input.X + t * n * m, scale, term);
        }
    }

    /// <summary>
    /// Second pass of the backward, per-token states when Phi is too large for <see cref="TokenInput"/>:
    /// dX[j] = sum_i H_res[i, j] dOut[i] + H_pre[j] du + the state's gradient scale v + <paramref name="phiTerm"/>
    /// (Phi^T dmr, rows x n M, made by a GEMM; <paramref name="dx"/> may overwrite it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardInput(MixingSpec spec, Inputs input, float* coefficients, float* du, float* dOut,
        float* scale, float* phiTerm, float* dx)
    {
        if (spec.State != MixingState.PerToken)
            throw new ArgumentException("Pooled states get their input gradient in BackwardCoefficients.", nameof(spec));
        nint cA = (nint)coefficients, duA = (nint)du, dOutA = (nint)dOut, scaleA = (nint)scale, phiA = (nint)phiTerm, dxA = (nint)dx;
        int n = spec.N, m = input.Features, q = spec.Q;
        KernelParallel.For(input.Rows, Math.Max(1, 16384 / Math.Max(1, n * m)), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            for (long t = start; t < end; t++)
                WriteInputGradient(n, m, (float*)cA + t * q, duA == 0 ? null : (float*)duA + t * m,
                    dOutA == 0 ? null : (float*)dOutA + t * n * m, (float*)dxA + t * n * m,
                    input.X + t * n * m, ((float*)scaleA)[t], (float*)phiA + t * n * m);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector<float> GatherScalars(float* values, long first, long count)
    {
        Span<float> lanes = stackalloc float[Lanes];
        for (int l = 0; l < Lanes; l++) lanes[l] = first + l < count ? values[first + l] : 1f;   // 1 keeps missing lanes finite
        return new Vector<float>(lanes);
    }

    /// <summary>
    /// Each lane's r and Phi v for the group of rows starting at <paramref name="first"/>, into the workspace and
    /// written to <paramref name="r"/> and <paramref name="projected"/>; pooled, the state is made here first and
    /// written to <paramref name="states"/>. Rows are projected two at a time (<see cref="VectorOps.Dot4x2"/>), while
    /// the group's rows are in cache: one pass over X from memory for the norm and the projection.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StateGroup(MixingSpec spec, Inputs input, long first, Workspace ws, float* projected, float* r, float* states)
    {
        int lanes = (int)Math.Min(Lanes, input.Rows - first);
        // Per token on shared streams the state (x, ..., x) is read as x: its mean square is x's, and Phi is summed.
        int d = input.PhiColumns > 0 ? input.PhiColumns : spec.StateLength, q = spec.Q;
        Span<float> rLanes = stackalloc float[Lanes];
        float** rows = stackalloc float*[Lanes];
        bool pooled = spec.State != MixingState.PerToken;
        for (int l = 0; l < Lanes; l++)
        {
            if (l >= lanes)
            {
                rLanes[l] = 1f;                                    // keeps missing lanes finite
                continue;
            }
            long t = first + l;
            float* state = pooled ? states + t * d : input.Row(t, spec.N);
            if (pooled) Pool(spec, input, t, state);
            rows[l] = state;
            rLanes[l] = r[t] = 1f / MathF.Sqrt(VectorOps.SumOfSquares(state, d) / d + spec.NormEpsilon);
        }
        float* phi = input.Phi;
        for (int l = 0; l < lanes; l += 2)
        {
            long t = first + l;
            bool pair = l + 1 < lanes;
            int k = 0;
            for (; k + 4 <= q; k += 4)
            {
                float* a = phi + (long)k * d;
                if (pair) VectorOps.Dot4x2(a, a + d, a + 2 * d, a + 3 * d, rows[l], rows[l + 1], d, projected + t * q + k, projected + (t + 1) * q + k);
                else VectorOps.Dot4(a, a + d, a + 2 * d, a + 3 * d, rows[l], d, new Span<float>(projected + t * q + k, 4));
            }
            for (; k < q; k++)
            {
                projected[t * q + k] = VectorOps.Dot(phi + (long)k * d, rows[l], d);
                if (pair) projected[(t + 1) * q + k] = VectorOps.Dot(phi + (long)k * d, rows[l + 1], d);
            }
        }
        VectorOps.Gather(projected, first, input.Rows, q, q, ws.Projected, ws.Stage);
        ws.R = new Vector<float>(rLanes);
    }

    /// <summary>The pooled state of row <paramref name="t"/> (the mean over positions of every stream channel) into <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pool(MixingSpec spec, Inputs input, long t, float* target)
    {
        float* row = input.Row(t, spec.N);
        int channels = spec.StateChannels, spatial = input.Features / channels;
        int pooled = input.Shared ? channels : spec.StateLength;
        for (int k = 0; k < pooled; k++)
            target[k] = VectorOps.Sum(row + (long)k * spatial, spatial) / spatial;
        // n copies of one tensor have n copies of its state.
        for (int k = pooled; k < spec.StateLength; k++) target[k] = target[k - channels];
    }

    /// <summary>u = sum_k pre[k] X[k] for one row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReadOut(float* x, float* coefficients, int n, int m, float* u)
    {
        Span<Vector<float>> pre = stackalloc Vector<float>[n];
        VectorOps.Broadcast(coefficients, n, pre);
        int c = n == 4 ? StreamMix4.ReadOut(m, x, coefficients, u) : 0;
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
    /// dX of one row, H_pre[j] du + sum_i H_res[i, j] dOut[i] plus, per token (<paramref name="x"/> given), the
    /// state's term scale x[j] + phiTerm[j] (pooled rows are written by <see cref="PooledInput.WriteRow"/>).
    /// A chunk of columns of all n streams at a time, so that dOut and du are read once for the n streams' gradients.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteInputGradient(int n, int m, float* coefficients, float* du, float* dOut, float* dx,
        float* x = null, float scale = 0f, float* phiTerm = null)
    {
        float* res = coefficients + 2 * n;
        // n = 4 needs none of the general loop's broadcast tables (set up per row, they cost as much as a short row).
        int c = n == 4
            ? StreamMix4.Backward(m, dOut, null, res, null, coefficients, du, dx, x, scale, phiTerm)
            : WriteInputGradientVectors(n, m, coefficients, du, dOut, dx, x, scale, phiTerm);
        for (int j = 0; j < n; j++)
            for (int k = c; k < m; k++) dx[j * m + k] = x != null ? phiTerm[j * m + k] + x[j * m + k] * scale : 0f;
        CombineTail(n, m, c, m, du, dOut, coefficients, res, dx);
    }

    /// <summary>The whole vectors of <see cref="WriteInputGradient"/> for any n; returns the first column left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int WriteInputGradientVectors(int n, int m, float* coefficients, float* du, float* dOut, float* dx,
        float* x, float scale, float* phiTerm)
    {
        Vector<float>* resV = stackalloc Vector<float>[n * n];
        Vector<float>* preV = stackalloc Vector<float>[n];
        Vector<float>* gs = stackalloc Vector<float>[n];
        Vector<float>* baseV = stackalloc Vector<float>[n];
        VectorOps.Broadcast(coefficients + 2 * n, n * n, new Span<Vector<float>>(resV, n * n));
        VectorOps.Broadcast(coefficients, n, new Span<Vector<float>>(preV, n));
        var scaleV = new Vector<float>(scale);
        for (int j = 0; j < n; j++) baseV[j] = Vector<float>.Zero;
        int c = 0;
        for (; c + Lanes <= m; c += Lanes)
        {
            if (x != null)
                for (int j = 0; j < n; j++)
                    baseV[j] = VectorOps.Fma(VectorOps.Load(x + j * m + c), scaleV, VectorOps.Load(phiTerm + j * m + c));
            Combine(n, m, c, du, dOut, preV, resV, gs, baseV, dx);
        }
        return c;
    }

    /// <summary>dX[j] at columns c..c+Lanes = base[j] + H_pre[j] du + sum_i H_res[i, j] dOut[i], for every j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Combine(int n, int m, int c, float* du, float* dOut, Vector<float>* preV, Vector<float>* resV,
        Vector<float>* gs, Vector<float>* baseV, float* dx)
    {
        if (dOut != null)
            for (int i = 0; i < n; i++) gs[i] = VectorOps.Load(dOut + i * m + c);
        var duV = du != null ? VectorOps.Load(du + c) : Vector<float>.Zero;
        for (int j = 0; j < n; j++)
        {
            var acc = baseV[j];
            if (du != null) acc = VectorOps.Fma(duV, preV[j], acc);
            if (dOut != null)
                for (int i = 0; i < n; i++) acc = VectorOps.Fma(gs[i], resV[i * n + j], acc);
            VectorOps.Store(dx + j * m + c, acc);
        }
    }

    /// <summary>Adds H_pre[j] du + sum_i H_res[i, j] dOut[i] to dX[j] at columns [from, to), one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CombineTail(int n, int m, int from, int to, float* du, float* dOut, float* pre, float* res, float* dx)
    {
        for (int j = 0; j < n; j++)
            for (int c = from; c < to; c++)
            {
                float acc = dx[j * m + c];
                if (du != null) acc += du[c] * pre[j];
                if (dOut != null)
                    for (int i = 0; i < n; i++) acc += dOut[i * m + c] * res[i * n + j];
                dx[j * m + c] = acc;
            }
    }

    /// <summary>
    /// Times the kernel's phases for a running <see cref="MixingProfiler"/>: the state and its projection (phi_norm),
    /// and the coefficients (sinkhorn for mHC, where Sinkhorn is nearly all of it; phi_norm for HC).
    /// </summary>
    internal sealed class PhaseClock
    {
        private readonly bool on = MixingProfiler.Active is not null;
        private long project;
        private long coefficients;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long Now() => on ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(long projectTicks, long coefficientTicks)
        {
            if (!on) return;
            Interlocked.Add(ref project, projectTicks);
            Interlocked.Add(ref coefficients, coefficientTicks);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
            Stage = new float[Q * Lanes];
            Projected = new Vector<float>[Q];
            Coefficients = new Vector<float>[Q];
            Gradient = new Vector<float>[Q];
            StateGradient = new float[Math.Max(1, D)];
            PhiTerm = new float[Math.Max(1, 2 * D)];
            GateGradient = new Vector<float>[3];
            BiasGradient = new Vector<float>[Q];
            Scratch = new Vector<float>[MixingCoefficients.ScratchLength(spec)];
            ScratchLength = Scratch.Length;
        }

        public int Q { get; }
        public int D { get; }
        public int ScratchLength { get; }
        public float[] Stage { get; }
        public Vector<float>[] Projected { get; }
        public Vector<float>[] Coefficients { get; }
        public Vector<float>[] Gradient { get; }
        public float[] StateGradient { get; }
        public float[] PhiTerm { get; }
        public Vector<float>[] GateGradient { get; }
        public Vector<float>[] BiasGradient { get; }
        public Vector<float>[] Scratch { get; }
        public Vector<float> R { get; set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static Workspace For(MixingSpec spec)
        {
            var ws = workspace;
            if (ws is null || ws.Q != spec.Q || ws.D < spec.StateLength || ws.ScratchLength < MixingCoefficients.ScratchLength(spec))
                workspace = ws = new Workspace(spec);
            return ws;
        }
    }
}
