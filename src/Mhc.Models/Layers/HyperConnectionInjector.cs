using System.Reflection;
using Module = TorchSharp.torch.nn.Module;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Layers;

/// <summary>
/// Turns the residual connections of an existing TorchSharp model into hyper-connections in one call:
/// every residual-style block (see <see cref="IResidualBlock"/>, or your own extractor) becomes a
/// <see cref="HyperConnection"/> whose F is the block's branch, and each run of consecutive blocks
/// becomes one <see cref="HyperSequential"/> that expands to n streams before the first block and
/// collapses after the last, so the streams persist across the run as the papers prescribe.
/// </summary>
/// <remarks>
/// <para>TorchSharp forward passes are user code, so the injector can only rewire what it can see:</para>
/// <list type="bullet">
/// <item><description>The model itself, if it is a residual block: it becomes a one-block stack.</description></item>
/// <item><description>A <see cref="TorchSharp.Modules.Sequential"/> (the model, or one nested anywhere): its children are
/// rebuilt into a new <see cref="TorchSharp.Modules.Sequential"/> with the same child names, runs of residual blocks replaced.</description></item>
/// <item><description>A custom module: its children are visited, and a child that was rebuilt is swapped
/// in place, both in the module registry and in the C# field that holds it (found by reference), so the
/// custom <c>forward</c> calls the new child. The custom module is modified and returned.</description></item>
/// </list>
/// <para>Not converted (listed in <see cref="InjectionResult.Skipped"/>): residual blocks that a custom
/// forward calls directly (between them it passes one tensor, so streams cannot persist; put them in a
/// <see cref="TorchSharp.Modules.Sequential"/>), and blocks held by a <see cref="TorchSharp.Modules.ModuleList{T}"/> or dictionary.</para>
/// <para>Branch modules are reused, not copied: the new model shares their parameters with the old one.
/// With <see cref="ConnectionKind.Residual"/> the converted model computes exactly what the original did
/// (provided the extracted parts reproduce each block). Anything a block does after its sum is lost.</para>
/// </remarks>
public static class HyperConnectionInjector
{
    /// <summary>Converts the residual-style blocks of <paramref name="model"/>; returns the model and what was done.</summary>
    public static InjectionResult Inject(Module<Tensor, Tensor> model, HyperInjectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Connection);
        ArgumentNullException.ThrowIfNull(options.Residual);
        var state = new State(options);
        var rebuilt = state.Visit(model, model.GetName());
        if (rebuilt is null)
        {
            var parts = options.Residual(model);
            rebuilt = parts is null ? model : state.Run([(model.GetName(), model, parts)]);
        }
        return new InjectionResult(rebuilt, state.Runs, state.Skipped);
    }

    /// <summary>Converts the blocks recognised by <see cref="HyperInjectionOptions.Residual"/>; returns the converted model.</summary>
    public static Module<Tensor, Tensor> Wrap(Module<Tensor, Tensor> model, HyperInjectionOptions options) => Inject(model, options).Model;

    /// <summary>Converts the blocks for which <paramref name="isResidualBlock"/> holds, split by <paramref name="parts"/>.</summary>
    /// <param name="model">The model to convert.</param>
    /// <param name="isResidualBlock">Selects the blocks to convert.</param>
    /// <param name="parts">Splits a selected block into branch and shortcut; must reproduce it exactly.</param>
    /// <param name="connection">Connection template (kind, streams, init ...).</param>
    public static Module<Tensor, Tensor> Wrap(Module<Tensor, Tensor> model, Func<Module, bool> isResidualBlock,
        Func<Module, ResidualParts> parts, HyperConnectionOptions connection)
    {
        ArgumentNullException.ThrowIfNull(isResidualBlock);
        ArgumentNullException.ThrowIfNull(parts);
        return Wrap(model, new HyperInjectionOptions { Connection = connection, Residual = m => isResidualBlock(m) ? parts(m) : null });
    }

    /// <summary>Converts every block of type <typeparamref name="TBlock"/>, split by <paramref name="parts"/>.</summary>
    public static Module<Tensor, Tensor> Wrap<TBlock>(Module<Tensor, Tensor> model, Func<TBlock, ResidualParts> parts, HyperConnectionOptions connection)
        where TBlock : Module
    {
        ArgumentNullException.ThrowIfNull(parts);
        return Wrap(model, new HyperInjectionOptions { Connection = connection, Residual = m => m is TBlock b ? parts(b) : null });
    }

    private sealed class State(HyperInjectionOptions options)
    {
        private int layerIndex;
        public List<HyperSequential> Runs { get; } = [];
        public List<string> Skipped { get; } = [];

        /// <summary>Returns a replacement for <paramref name="module"/>, or null when nothing inside it changed.</summary>
        public Module<Tensor, Tensor>? Visit(Module module, string path)
        {
            if (module is Sequential sequential) return VisitSequential(sequential, path);
            if (module is HyperConnection or HyperSequential) return null;   // already hyper-connected
            bool isBlock = options.Residual(module) is not null;
            string typeName = module.GetType().Name;
            bool isList = typeName.StartsWith("ModuleList", StringComparison.Ordinal) || typeName.StartsWith("ModuleDict", StringComparison.Ordinal);
            foreach (var (name, child) in module.named_children().ToList())
            {
                string childPath = $"{path}.{name}";
                if (options.Residual(child) is not null)
                {
                    Skipped.Add(isList
                        ? $"{childPath}: a residual block held by a {typeName}, whose use is custom forward code. Hold the blocks in a Sequential to convert them."
                        : $"{childPath}: a residual block called from {typeName}.forward; streams cannot persist across custom forward code. " +
                          "Hold the blocks in a Sequential to convert them.");
                    continue;
                }
                if (isBlock) continue;   // the block's own insides (its branch) are not converted separately
                if (isList)
                {
                    if (Visit(child, childPath) is not null)
                        Skipped.Add($"{childPath}: rebuilt, but a child of a {typeName} cannot be swapped; the model still uses the old one.");
                    continue;
                }
                var replacement = Visit(child, childPath);
                if (replacement is null) continue;
                if (!ReplaceChild(module, name, child, replacement))
                    Skipped.Add($"{childPath}: rebuilt, but no field of {module.GetType().Name} holds it, so its forward would not see the change.");
            }
            return null;
        }

        private Sequential? VisitSequential(Sequential sequential, string path)
        {
            var output = new List<(string Name, Module<Tensor, Tensor> Module)>();
            var run = new List<(string Name, Module Block, ResidualParts? Parts)>();
            var pendingStreamwise = new List<(string Name, Module<Tensor, Tensor> Module)>();
            bool changed = false;

            void Flush()
            {
                if (run.Count > 0)
                {
                    output.Add(($"hyper_{run[0].Name}", Run(run)));
                    changed = true;
                    run.Clear();
                }
                // Stream-wise modules after the last block of a run run after its collapse, as they did.
                output.AddRange(pendingStreamwise);
                pendingStreamwise.Clear();
            }

            foreach (var (name, child) in sequential.named_children().ToList())
            {
                var typed = child as Module<Tensor, Tensor>
                    ?? throw new NotSupportedException($"{path}.{name} is a {child.GetType().Name}, not a Module<Tensor, Tensor>.");
                var parts = options.Residual(child);
                if (parts is not null)
                {
                    foreach (var (sName, sModule) in pendingStreamwise)
                        run.Add((sName, sModule, null));
                    pendingStreamwise.Clear();
                    run.Add((name, child, parts));
                    continue;
                }
                if (run.Count > 0 && options.Streamwise?.Invoke(child) == true)
                {
                    pendingStreamwise.Add((name, typed));
                    continue;
                }
                Flush();
                var inner = Visit(child, $"{path}.{name}");
                if (inner is not null) changed = true;
                output.Add((name, inner ?? typed));
            }
            Flush();
            return changed ? Sequential(output.ToArray()) : null;
        }

        /// <summary>One hyper-connected stack for a run; entries with null parts are stream-wise modules.</summary>
        public HyperSequential Run(IReadOnlyList<(string Name, Module Block, ResidualParts? Parts)> run)
        {
            var template = options.Connection;
            int streams = template.Streams;
            var layers = new List<Module<Tensor, Tensor>>();
            foreach (var (name, block, parts) in run)
            {
                if (parts is null)
                {
                    layers.Add(new PerStream(name, (Module<Tensor, Tensor>)block));
                    continue;
                }
                var o = template.WithLayer(layerIndex++, parts.Channels);
                layers.Add(new HyperConnection(name, parts.Branch, o, parts.Shortcut));
            }
            var stack = new HyperSequential($"hyper_{run[0].Name}", streams, layers, options.Collapse);
            Runs.Add(stack);
            return stack;
        }

        private static bool ReplaceChild(Module parent, string name, Module old, Module replacement)
        {
            bool found = false;
            for (var type = parent.GetType(); type is not null && type != typeof(Module); type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (!ReferenceEquals(field.GetValue(parent), old)) continue;
                    if (!field.FieldType.IsAssignableFrom(replacement.GetType())) continue;
                    field.SetValue(parent, replacement);
                    found = true;
                }
            }
            if (!found) return false;
            parent.register_module(name, null!);   // drops the old registration
            parent.register_module(name, replacement);
            return true;
        }
    }
}
