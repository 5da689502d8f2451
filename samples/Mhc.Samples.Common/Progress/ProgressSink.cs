namespace Mhc.Samples.Progress;

/// <summary>What a job reports to while <see cref="ConsoleProgress"/> shows its progress.</summary>
public abstract class ProgressSink
{
    /// <summary>Amount of work that means "done" (e.g. epochs, trials, or 1 for a fraction).</summary>
    public abstract double Total { get; set; }

    /// <summary>Sets how much of <see cref="Total"/> is done, with an optional short status (e.g. "loss 0.31").</summary>
    public abstract void Report(double completed, string? status = null);

    /// <summary>Prints a line (a result, a warning) without breaking the progress display.</summary>
    public abstract void Log(string line);
}
