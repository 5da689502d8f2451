using System.Diagnostics;
using System.Reflection;
using static TorchSharp.torch;

namespace Mhc.Models.Diagnostics;

/// <summary>Forward-pass time of one module, summed over the calls the profiler saw.</summary>
/// <param name="Name">Dotted module path from the profiled root (<c>""</c> for the root itself).</param>
/// <param name="Type">The module's class name.</param>
/// <param name="Calls">Completed forward calls.</param>
/// <param name="TotalMilliseconds">Wall time of those calls, children included.</param>
public sealed record ModuleTiming(string Name, string Type, int Calls, double TotalMilliseconds)
{
    /// <summary>Mean wall time per call.</summary>
    public double MeanMilliseconds => Calls == 0 ? 0 : TotalMilliseconds / Calls;
}

/// <summary>
/// A lightweight forward profiler (the <c>mhc</c> package's <c>ForwardProfiler</c>): forward hooks on a module tree
/// record the wall time of every module's forward pass, children included, until the profiler is disposed.
/// <code>
/// using (var profiler = ForwardProfiler.Start(model)) { model.call(batch); Print(profiler.Summary()); }
/// </code>
/// </summary>
/// <remarks>
/// TorchSharp runs hooks only when a module is invoked through <c>call(...)</c>; a parent that calls
/// <c>child.forward(...)</c> directly hides that child. <see cref="Layers.HistoryWindowSkipStack"/> calls its
/// branches and skips through <c>call</c>; invoke the profiled root itself with <c>call</c> too. Times are wall
/// time on the calling thread: on CPU, where libtorch runs synchronously, that is the module's compute.
/// </remarks>
public sealed class ForwardProfiler : IDisposable
{
    private readonly Func<double> clock;
    private readonly List<Action> removers = [];
    private readonly Dictionary<nn.Module, string> names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, (string Type, int Calls, double Total)> totals = new(StringComparer.Ordinal);
    private readonly Dictionary<nn.Module, Stack<double>> starts = new(ReferenceEqualityComparer.Instance);
    private readonly List<string> order = [];
    private bool disposed;

    private ForwardProfiler(Func<double> clock) => this.clock = clock;

    /// <summary>Attaches to <paramref name="root"/> and every module below it.</summary>
    /// <param name="root">The module tree to profile.</param>
    /// <param name="filter">Which modules to time, by dotted path and module; null: all.</param>
    /// <param name="clockMilliseconds">A monotonic clock in milliseconds; null: <see cref="Stopwatch"/>. Tests pass a fake clock.</param>
    public static ForwardProfiler Start(nn.Module root, Func<string, nn.Module, bool>? filter = null, Func<double>? clockMilliseconds = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var profiler = new ForwardProfiler(clockMilliseconds ?? (() => Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency));
        foreach (var (name, module) in new[] { ("", root) }.Concat(root.named_modules()))
        {
            if (filter is not null && !filter(name, module)) continue;
            if (profiler.names.ContainsKey(module)) continue;
            profiler.Attach(name, module);
        }
        return profiler;
    }

    /// <summary>Number of modules the profiler is attached to.</summary>
    public int ModuleCount => names.Count;

    /// <summary>Timings of every module that completed at least one call, in the order of their first completion.</summary>
    public IReadOnlyList<ModuleTiming> Summary() =>
        order.Select(n => new ModuleTiming(n, totals[n].Type, totals[n].Calls, totals[n].Total)).ToList();

    /// <summary>Forgets all timings (the hooks stay attached).</summary>
    public void Reset()
    {
        totals.Clear();
        order.Clear();
        foreach (var s in starts.Values) s.Clear();
    }

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var remove in removers) remove();
        removers.Clear();
    }

    private void Attach(string name, nn.Module module)
    {
        // Every Module<...> derives from HookableModule<TPre, TPost>, whose overloads taking Action<Module> have the
        // same signature whatever the module's input types; they are found by reflection once per module type.
        var (pre, post) = HookMethods(module.GetType());
        if (pre is null || post is null) return;
        names[module] = name;
        starts[module] = new Stack<double>();
        Action<nn.Module> onPre = m => starts[m].Push(clock());
        Action<nn.Module> onPost = m =>
        {
            var stack = starts[m];
            if (stack.Count == 0) return;
            double elapsed = clock() - stack.Pop();
            string n = names[m];
            if (!totals.TryGetValue(n, out var t))
            {
                t = (m.GetType().Name, 0, 0);
                order.Add(n);
            }
            totals[n] = (t.Type, t.Calls + 1, t.Total + elapsed);
        };
        var preRemover = pre.Invoke(module, [onPre])!;
        var postRemover = post.Invoke(module, [onPost])!;
        removers.Add(Remover(preRemover));
        removers.Add(Remover(postRemover));
    }

    private static Action Remover(object handle)
    {
        var remove = handle.GetType().GetMethod("remove", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes)
            ?? throw new InvalidOperationException($"{handle.GetType()} has no remove().");
        return () => remove.Invoke(handle, null);
    }

    private static readonly Dictionary<Type, (MethodInfo? Pre, MethodInfo? Post)> hookMethods = [];

    private static (MethodInfo? Pre, MethodInfo? Post) HookMethods(Type type)
    {
        lock (hookMethods)
        {
            if (!hookMethods.TryGetValue(type, out var found))
            {
                Type[] signature = [typeof(Action<nn.Module>)];
                found = (type.GetMethod("register_forward_pre_hook", signature), type.GetMethod("register_forward_hook", signature));
                hookMethods[type] = found;
            }
            return found;
        }
    }
}
