using Spectre.Console;

namespace StabilityBenchmark;

/// <summary>A Spectre.Console progress bar on an interactive terminal, plain progress lines when redirected.</summary>
public abstract class ProgressDisplay : IDisposable
{
    /// <summary>Picks the display for the current console.</summary>
    public static ProgressDisplay Create(string title, int total) =>
        Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive
            ? new PlainProgress(title, total)
            : new SpectreProgress(title, total);

    /// <summary>Reports that <paramref name="done"/> of the total units are complete.</summary>
    public abstract void Report(int done);

    /// <inheritdoc />
    public virtual void Dispose() => GC.SuppressFinalize(this);

    private sealed class PlainProgress(string title, int total) : ProgressDisplay
    {
        private readonly int every = Math.Max(1, total / 10);

        public override void Report(int done)
        {
            if (done % every == 0 || done == total) Console.WriteLine($"{title}: {done}/{total}");
        }
    }

    /// <summary>Runs Spectre's live progress on its own thread so the caller's loop stays synchronous.</summary>
    private sealed class SpectreProgress : ProgressDisplay
    {
        private readonly Task rendering;
        private readonly TaskCompletionSource finished = new();
        private volatile int done;

        public SpectreProgress(string title, int total)
        {
            var started = new TaskCompletionSource();
            rendering = Task.Run(() => AnsiConsole.Progress().AutoClear(false).Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: total);
                started.SetResult();
                while (!finished.Task.IsCompleted)
                {
                    task.Value = done;
                    ctx.Refresh();
                    finished.Task.Wait(100);
                }
                task.Value = done;
            }));
            started.Task.Wait();
        }

        public override void Report(int value) => done = value;

        public override void Dispose()
        {
            finished.TrySetResult();
            rendering.Wait();
            base.Dispose();
        }
    }
}
