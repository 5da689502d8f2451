namespace ImageClassificationSample;

/// <summary>Entry point; <see cref="Sample.Run"/> is public so a test can run the sample in-process.</summary>
public static class Program
{
    /// <summary>Runs the sample; see <c>--help</c>.</summary>
    public static int Main(string[] args)
    {
        // libtorch warns once per convolution shape that NNPACK does not support this CPU; it falls back silently otherwise.
        if (Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL") is null) Environment.SetEnvironmentVariable("TORCH_CPP_LOG_LEVEL", "ERROR");
        return Sample.Run(args);
    }
}
