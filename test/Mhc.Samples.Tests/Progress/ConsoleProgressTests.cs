using Mhc.Samples.Progress;

namespace Mhc.Samples.Tests.Progress;

public class ConsoleProgressTests
{
    [Fact]
    public void PlainModeWritesProgressLinesWithEtaAndAFinalLine()
    {
        var output = new StringWriter();
        int result = ConsoleProgress.Run("trials", 4, sink =>
        {
            for (int i = 1; i <= 4; i++)
            {
                Thread.Sleep(20);
                sink.Report(i, $"best {0.9 + i / 100.0:F2}");
                if (i == 2) sink.Log("trial 2 finished");
            }
            return 42;
        }, ProgressMode.Plain, output, TimeSpan.Zero);

        Assert.Equal(42, result);
        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("trials: 1/4 (25%), 0:00 elapsed, ETA 0:00, best 0.91", lines[0]);
        Assert.Equal("trial 2 finished", lines[2]);
        Assert.StartsWith("trials: 4/4 (100%)", lines[4]);
        Assert.StartsWith("trials: done in 0:00, best 0.94", lines[5]);
    }

    [Fact]
    public void PlainModeThrottlesProgressLinesButNotCompletion()
    {
        var output = new StringWriter();
        ConsoleProgress.Run("epochs", 100, sink =>
        {
            for (int i = 1; i <= 100; i++) sink.Report(i);
        }, ProgressMode.Plain, output, TimeSpan.FromHours(1));
        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        // The first report prints (nothing printed yet), the rest fall inside the interval until completion.
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("epochs: 1/100 (1%), ", lines[0]);
        Assert.StartsWith("epochs: 100/100 (100%), ", lines[1]);
        Assert.StartsWith("epochs: done in ", lines[2]);
    }

    [Fact]
    public void DurationsFormatAsMinutesOrHours()
    {
        Assert.Equal("4:05", ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(245)));
        Assert.Equal("1:02:03", ConsoleProgress.FormatDuration(new TimeSpan(1, 2, 3)));
    }

    [Fact]
    public void RejectsNonPositiveTotals() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ConsoleProgress.Run("x", 0, _ => { }, ProgressMode.Plain, new StringWriter()));
}
