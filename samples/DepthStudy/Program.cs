namespace DepthStudy;

/// <summary>Entry point; <see cref="Study.Run"/> is public so tests can run the study in-process.</summary>
public static class Program
{
    /// <summary>Runs the study; see <c>--help</c>.</summary>
    public static int Main(string[] args) => Study.Run(args);
}
