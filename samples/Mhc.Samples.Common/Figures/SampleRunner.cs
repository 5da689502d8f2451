using Mhc.Samples.Data;

namespace Mhc.Samples.Figures;

/// <summary>
/// The common entry of the samples: parse the standard and sample-specific options, print usage on
/// <c>--help</c>, build the run's configuration, run it, and map failures to exit codes
/// (0 ok, 2 bad arguments, 3 data missing: run <c>build/get-data.sh</c>).
/// </summary>
public static class SampleRunner
{
    /// <summary>Runs a sample whose options are first turned into a configuration.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="name">Program name shown in the usage text.</param>
    /// <param name="extra">Sample-specific options.</param>
    /// <param name="configure">Builds the configuration; throws <see cref="ArgumentException"/> on bad values.</param>
    /// <param name="execute">Runs the sample; returns its exit code.</param>
    public static int Run<TConfig>(string[] args, string name, SampleOption[] extra,
        Func<SampleArgs, TConfig> configure, Func<SampleArgs, TConfig, int> execute)
    {
        SampleArgs parsed;
        TConfig config;
        try
        {
            parsed = SampleArgs.Parse(args, extra);
            if (parsed.Help)
            {
                Console.WriteLine(parsed.Usage(name));
                return 0;
            }
            config = configure(parsed);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        try
        {
            return execute(parsed, config);
        }
        catch (DataMissingException e)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
    }
}
