namespace Mhc.Samples.Progress;

/// <summary>How <see cref="ConsoleProgress"/> shows progress.</summary>
public enum ProgressMode
{
    /// <summary>A live bar in an interactive terminal, plain lines when output is redirected (logs, CI, tests).</summary>
    Auto,

    /// <summary>Always a Spectre.Console live progress bar with elapsed time and ETA.</summary>
    Bar,

    /// <summary>Always plain, timestamp-free lines with percentage, elapsed time and ETA.</summary>
    Plain,
}
