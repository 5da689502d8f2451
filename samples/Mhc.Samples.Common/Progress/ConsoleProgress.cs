using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Mhc.Samples.Progress;

/// <summary>
/// Shows the progress of long work: a Spectre.Console bar with elapsed time and ETA in an interactive terminal,
/// and plain lines ("trials: 3/20 (15%), 0:42 elapsed, ETA 3:58, best 0.981") when output is redirected, so
/// logs and CI output stay readable.
/// </summary>
public static class ConsoleProgress
{
    /// <summary>True when the console is an interactive terminal that can redraw a bar.</summary>
    public static bool IsInteractive =>
        !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;

    /// <summary>Runs <paramref name="work"/> while showing its progress.</summary>
    /// <param name="description">What is running, e.g. "sweep".</param>
    /// <param name="total">Amount of work that means done (see <see cref="ProgressSink.Total"/>).</param>
    /// <param name="work">The job; it reports through the sink.</param>
    /// <param name="mode">Bar, plain lines, or automatic.</param>
    /// <param name="plainOutput">Where plain lines go (default standard output).</param>
    /// <param name="plainInterval">Least time between two plain progress lines (default 5 s; logs and completion always print).</param>
    public static T Run<T>(string description, double total, Func<ProgressSink, T> work, ProgressMode mode = ProgressMode.Auto,
        TextWriter? plainOutput = null, TimeSpan? plainInterval = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(work);
        if (!(total > 0)) throw new ArgumentOutOfRangeException(nameof(total), total, "Total work must be positive.");
        bool bar = mode == ProgressMode.Bar || (mode == ProgressMode.Auto && IsInteractive);
        if (!bar)
        {
            var sink = new PlainSink(description, total, plainOutput ?? Console.Out, plainInterval ?? TimeSpan.FromSeconds(5));
            var result = work(sink);
            sink.Finish();
            return result;
        }

        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: total);
                var result = work(new BarSink(task, description));
                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            });
    }

    /// <summary>Runs <paramref name="work"/> (no result) while showing its progress.</summary>
    public static void Run(string description, double total, Action<ProgressSink> work, ProgressMode mode = ProgressMode.Auto,
        TextWriter? plainOutput = null, TimeSpan? plainInterval = null)
    {
        ArgumentNullException.ThrowIfNull(work);
        Run<object?>(description, total, s => { work(s); return null; }, mode, plainOutput, plainInterval);
    }

    /// <summary>"1:02:03" or "4:05" for a duration.</summary>
    public static string FormatDuration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";

    private sealed class BarSink(ProgressTask task, string description) : ProgressSink
    {
        public override double Total { get => task.MaxValue; set => task.MaxValue = value; }

        public override void Report(double completed, string? status = null)
        {
            task.Value = Math.Clamp(completed, 0, task.MaxValue);
            task.Description = Markup.Escape(status is null ? description : $"{description}: {status}");
        }

        public override void Log(string line) => AnsiConsole.MarkupLine(Markup.Escape(line));
    }

    private sealed class PlainSink(string description, double total, TextWriter output, TimeSpan interval) : ProgressSink
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan? _lastLine;
        private double _completed;
        private string? _status;

        public override double Total { get; set; } = total;

        public override void Report(double completed, string? status = null)
        {
            _completed = Math.Clamp(completed, 0, Total);
            _status = status;
            var now = _clock.Elapsed;
            if (_completed >= Total || _lastLine is null || now - _lastLine.Value >= interval)
            {
                _lastLine = now;
                output.WriteLine(Line(now));
            }
        }

        public override void Log(string line) => output.WriteLine(line);

        public void Finish()
        {
            output.WriteLine($"{description}: done in {FormatDuration(_clock.Elapsed)}" + (_status is null ? "" : $", {_status}"));
            output.Flush();
        }

        private string Line(TimeSpan elapsed)
        {
            double fraction = _completed / Total;
            string amount = Total == Math.Floor(Total) && _completed == Math.Floor(_completed)
                ? $"{_completed.ToString(CultureInfo.InvariantCulture)}/{Total.ToString(CultureInfo.InvariantCulture)} " : "";
            string eta = fraction > 0 ? $", ETA {FormatDuration(elapsed * ((1 - fraction) / fraction))}" : "";
            return $"{description}: {amount}({(fraction * 100).ToString("0", CultureInfo.InvariantCulture)}%), {FormatDuration(elapsed)} elapsed{eta}" +
                (_status is null ? "" : $", {_status}");
        }
    }
}
