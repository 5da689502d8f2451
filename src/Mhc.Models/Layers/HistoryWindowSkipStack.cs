using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Runs layers f_1..f_L in sequence with a <see cref="HistoryWindowSkip"/> around each:
/// x_0 = input, x_l = f_l(x_(l-1)) + sum_k alpha_(l,k) P(x_k) over the last min(l, H) states.
/// </summary>
/// <remarks>
/// The history lives in a local list of one forward call, so nothing is carried from one batch to the
/// next and batch sizes may change between calls. The shapes every layer produces are found once, at
/// construction, by one forward pass of a single zero sample in eval mode, so that all projections exist
/// (and are seen by the optimizer) before training starts.
/// </remarks>
public sealed class HistoryWindowSkipStack : Module<Tensor, Tensor>
{
    private readonly ModuleList<Module<Tensor, Tensor>> layers;
    private readonly ModuleList<HistoryWindowSkip> skips;
    private readonly int maxHistory;
    private readonly bool checkpoint;

    /// <summary>Builds the stack.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="layers">The branches f_l, in order; each maps the previous state to the next.</param>
    /// <param name="inputShape">Feature shape of x_0 without the batch axis, e.g. (C, H, W) or (C).</param>
    /// <param name="options">Skip configuration shared by all layers; validated here.</param>
    public HistoryWindowSkipStack(string name, IEnumerable<Module<Tensor, Tensor>> layers, long[] inputShape, HistoryWindowSkipOptions options)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        maxHistory = options.MaxHistory;
        checkpoint = options.CheckpointBlocks;
        this.layers = new ModuleList<Module<Tensor, Tensor>>(layers.ToArray());
        if (this.layers.Count == 0) throw new ArgumentException("A history stack needs at least one layer.", nameof(layers));
        InputShape = (long[])inputShape.Clone();

        var shapes = new List<long[]> { (long[])inputShape.Clone() };
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var x = zeros(new long[] { 1 }.Concat(inputShape).ToArray());
            for (int l = 0; l < this.layers.Count; l++)
            {
                var layer = this.layers[l];
                bool wasTraining = layer.training;
                layer.eval();
                try
                {
                    x = layer.forward(x);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new ArgumentException(
                        $"{name}: layer {l} ({layer.GetName()}) failed on a state of shape {HistoryWindowSkipProjection.Show(shapes[^1])}: {e.Message}", nameof(layers), e);
                }
                finally
                {
                    layer.train(wasTraining);
                }
                shapes.Add(x.shape[1..]);
            }
        }
        skips = new ModuleList<HistoryWindowSkip>();
        for (int l = 1; l <= this.layers.Count; l++)
        {
            int first = Math.Max(0, l - maxHistory);
            var window = shapes.GetRange(first, l - first);
            skips.Add(new HistoryWindowSkip($"skip{l}", options, shapes[l], window));
        }
        StateShapes = shapes;
        RegisterComponents();
    }

    /// <summary>Feature shape of x_0.</summary>
    public IReadOnlyList<long> InputShape { get; }

    /// <summary>Feature shapes of x_0..x_L found at construction.</summary>
    public IReadOnlyList<long[]> StateShapes { get; }

    /// <summary>The branches f_l, in order.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Layers => layers.ToList();

    /// <summary>The skips, one per layer, in order.</summary>
    public IReadOnlyList<HistoryWindowSkip> Skips => skips.ToList();

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != InputShape.Count + 1 || input.shape[1] != InputShape[0])
            throw new ArgumentException(
                $"{GetName()} expects input (B, {string.Join(", ", InputShape)}); got {HistoryWindowSkipProjection.Show(input.shape)}.", nameof(input));
        // A fresh window per call: history never leaks across batches.
        var history = new List<Tensor>(maxHistory) { input };
        var x = input;
        for (int l = 0; l < layers.Count; l++)
        {
            x = checkpoint ? Checkpointed(l, x, history) : Block(l, x, history);
            history.Add(x);
            if (history.Count > maxHistory) history.RemoveAt(0);
        }
        return x;
    }

    // Modules are invoked through call() so that forward hooks (ForwardProfiler) see the branches and the skips.
    private Tensor Block(int l, Tensor x, IReadOnlyList<Tensor> history) => skips[l].call(layers[l].call(x), history);

    // The newest state of the window is x itself, so the block's inputs are exactly the window.
    private Tensor Checkpointed(int l, Tensor x, IReadOnlyList<Tensor> history) =>
        BlockCheckpoint.Apply(window => Block(l, window[^1], window), history.ToArray());
}
