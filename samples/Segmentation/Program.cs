namespace SegmentationSample;

/// <summary>Entry point; <see cref="Run"/> is public so a test can run the sample in-process.</summary>
public static class Program
{
    /// <summary>Runs the sample; see <c>--help</c>.</summary>
    public static int Main(string[] args) => Run(args);

    /// <summary>Runs the sample and returns the exit code (0 ok, 2 bad arguments, 3 data missing).</summary>
    public static int Run(string[] args)
    {
        // libtorch prints a warning per convolution shape when NNPACK cannot run on this CPU; it falls back silently otherwise.
        if (Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL") is null) Environment.SetEnvironmentVariable("TORCH_CPP_LOG_LEVEL", "ERROR");
        return Sample.Run(args);
    }
}
