using TorchSharp;
using static TorchSharp.torch;

namespace Mhc.Models.Layers;

/// <summary>
/// Block (gradient) checkpointing: runs a block without recording its graph, keeps only the block's inputs, and
/// recomputes the block during backward to get its gradients. Activation memory drops from every intermediate of
/// the block to its inputs and output, for the cost of running the block's forward twice.
/// </summary>
/// <remarks>
/// The recomputation replays the CPU random generator state of the first pass, so blocks that draw random numbers
/// (dropout, Gumbel mixing) get the same draws both times. Parameters receive their gradients from a nested
/// backward pass over the recomputed block (as PyTorch's reentrant <c>torch.utils.checkpoint</c>), so the result is
/// the same as without checkpointing. Batch norm in training mode updates its running statistics in both passes.
/// Without gradient recording (evaluation, <c>no_grad</c>) the block simply runs.
/// <para>
/// When it pays: TorchSharp 0.107's custom autograd node keeps an uninitialised buffer the size of the block's output
/// and the saved inputs until the whole graph is freed, so a checkpointed block still costs about two outputs' worth.
/// Measured (samples/Benchmarks, suite checkpoint-memory): on the depth study's 64-block history MLP (hidden 2w) the
/// peak over forward and backward fell from 57.9 to 33.0 MB; on the main job's Hyper-ResNet, whose n-stream state is
/// larger than each block's own intermediates, the memory held after forward fell (79.8 to 60.5 MB) but the peak
/// barely moved (140.6 to 136.0 MB; with 4 blocks per stage it rose, 313.6 to 325.6 MB) for 1.28-1.38x the step time.
/// Checkpoint blocks whose intermediates are several times their output (MLP, attention), not hyper-connected conv
/// blocks.
/// </para>
/// </remarks>
public static class BlockCheckpoint
{
    /// <summary>Returns <paramref name="block"/>(<paramref name="inputs"/>), checkpointed while gradients are recorded.</summary>
    /// <param name="block">The computation; it must be a pure function of the inputs and of module parameters
    /// that do not change between forward and backward.</param>
    /// <param name="inputs">The block's tensor inputs (any of them may require gradients).</param>
    public static Tensor Apply(Func<IReadOnlyList<Tensor>, Tensor> block, IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("A checkpointed block needs at least one input.", nameof(inputs));
        if (!is_grad_enabled()) return block(inputs);
        // The anchor makes the node part of the graph even when no input requires a gradient (the first block of a
        // network sees the data): the block's parameters get their gradients through the node's backward.
        using var anchor = empty(0).requires_grad_(true);
        var args = new object[inputs.Count + 2];
        args[0] = new Recipe(block, inputs.Count);
        args[1] = anchor;
        for (int i = 0; i < inputs.Count; i++) args[i + 2] = inputs[i];
        return CheckpointFunction.apply(args);
    }

    /// <summary>What the backward pass needs besides the saved inputs (not a tensor, so autograd ignores it).</summary>
    private sealed class Recipe(Func<IReadOnlyList<Tensor>, Tensor> block, int inputCount)
    {
        public Func<IReadOnlyList<Tensor>, Tensor> Block { get; } = block;
        public int InputCount { get; } = inputCount;
        public byte[]? RandomState { get; set; }
    }

    private sealed class CheckpointFunction : autograd.SingleTensorFunction<CheckpointFunction>
    {
        public override string Name => "BlockCheckpoint";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var recipe = (Recipe)vars[0];
            var inputs = vars.Skip(2).Cast<Tensor>().ToList();
            recipe.RandomState = RandomState();
            ctx.save_data("recipe", recipe);
            ctx.save_for_backward(inputs);
            // Runs with gradient recording off (Function.apply's forward), so nothing references the block's
            // intermediates but their .NET wrappers: a scope of its own frees them as soon as the block returns.
            using var scope = NewDisposeScope();
            var output = recipe.Block(inputs);
            // A block that returns an input unchanged must not move it out of the caller's scope.
            return inputs.Any(t => ReferenceEquals(t, output)) ? output : output.MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var recipe = (Recipe)ctx.get_data("recipe");
            // The recomputed block lives only in this scope: once its nested backward is done, all of it is freed.
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var inputs = saved.Select(t => t.detach().requires_grad_(t.requires_grad)).ToList();
            var current = RandomState();
            Tensor output;
            SetRandomState(recipe.RandomState!);
            try
            {
                // Only autograd may keep the recomputed intermediates, so the nested backward frees each one as soon
                // as it is used, as the plain graph's backward would.
                using var forwardScope = NewDisposeScope();
                using (enable_grad())
                    output = recipe.Block(inputs);
                if (!inputs.Any(t => ReferenceEquals(t, output))) output.MoveToOuterDisposeScope();
            }
            finally
            {
                SetRandomState(current);
            }
            // Nested backward: accumulates the parameters' gradients and fills the inputs' .grad.
            if (output.requires_grad)
                autograd.backward([output], [gradOutput]);
            var grads = new List<Tensor> { null!, null! };
            grads.AddRange(inputs.Select(t => t.requires_grad && t.grad is { } g ? g.MoveToOuterDisposeScope() : null!));
            return grads;
        }

        private static byte[] RandomState()
        {
            using var state = torch.random.get_rng_state();
            return state.data<byte>().ToArray();
        }

        private static void SetRandomState(byte[] bytes)
        {
            using var state = tensor(bytes, ScalarType.Byte);
            torch.random.set_rng_state(state);
        }
    }
}
