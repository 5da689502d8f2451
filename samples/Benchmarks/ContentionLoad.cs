using System.Diagnostics;

namespace Benchmarks;

/// <summary>
/// Busy child processes that compete with this process for the CPU (the "busy neighbour" of a shared machine).
/// Each child is a shell loop that spins as long as this process lives, so it also ends by itself if this
/// process is killed outright; <see cref="Dispose"/>, process exit and Ctrl-C kill the children sooner.
/// </summary>
public sealed class ContentionLoad : IDisposable
{
    private static readonly object Gate = new();
    private static readonly HashSet<Process> Running = [];
    private static bool hooked;
    private readonly List<Process> children = [];

    /// <summary>Starts <paramref name="processes"/> busy children (at least one).</summary>
    public ContentionLoad(int processes)
    {
        if (processes < 1) throw new ArgumentOutOfRangeException(nameof(processes), processes, "At least one competing process.");
        HookExitOnce();
        try
        {
            for (int i = 0; i < processes; i++) children.Add(StartChild());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>One competing process per core minus one (at least one): the measuring process keeps one core's worth.</summary>
    public static int DefaultProcessCount => Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Process ids of the children still running.</summary>
    public IReadOnlyList<int> ProcessIds => children.Where(c => !c.HasExited).Select(c => c.Id).ToList();

    /// <summary>Kills the children and waits for them to go.</summary>
    public void Dispose()
    {
        foreach (var child in children) Kill(child);
        children.Clear();
    }

    private static Process StartChild()
    {
        // Shell arithmetic in user space (like a compiler, not a system-call storm), with a look every ~0.1 s at
        // whether this process still lives (`kill -0` is a builtin), so the child never outlives it.
        var info = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", $"while kill -0 {Environment.ProcessId} 2>/dev/null; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done" },
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the competing /bin/sh process.");
        lock (Gate) Running.Add(process);
        return process;
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            lock (Gate) Running.Remove(process);
            process.Dispose();
        }
    }

    private static void HookExitOnce()
    {
        lock (Gate)
        {
            if (hooked) return;
            hooked = true;
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private static void KillAll()
    {
        Process[] all;
        lock (Gate) all = [.. Running];
        foreach (var process in all) Kill(process);
    }
}
