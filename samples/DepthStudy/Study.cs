using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Mhc.Models;
using Mhc.Samples.Data;
using Mhc.Samples.Figures;
using Mhc.Samples.Networks;
using Mhc.Models.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace DepthStudy;

/// <summary>
/// The depth study of issue 16: residual, HC, mHC and the history-window skip on deep pre-norm MLPs over a grid of
/// depths and peak learning rates, every cell trained for the same number of steps on MNIST digits.
/// </summary>
public static class Study
{
    /// <summary>JSON options for the raw cell results that worker processes hand back (NaN losses included).</summary>
    public static readonly JsonSerializerOptions RawJson = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Runs the study with command-line <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args) =>
        SampleRunner.Run(args, "DepthStudy", StudySettings.ExtraOptions, StudySettings.From, (_, s) => Execute(s));

    private static int Execute(StudySettings s)
    {
        var total = Stopwatch.StartNew();
        MhcEnvironment.EnsureTorch();
        var digits = MnistDigits.Load();
        var cells = s.Cells();
        if (s.CellIndex is null)
            Console.WriteLine($"DepthStudy: {string.Join(", ", s.Connections)} x depth {{{string.Join(", ", s.Depths)}}} x peak lr " +
            $"{{{string.Join(", ", s.LearningRates.Select(G))}}} = {cells.Count} cells, {s.Steps} steps of {s.BatchSize} digits each, " +
            $"width {s.Width}, n = {s.Streams}, {s.Workers} worker process(es) x {s.Threads} torch thread(s){(s.Quick ? ", quick" : "")}");

        List<CellResult> results;
        if (s.CellIndex is { } only)
        {
            results = RunCells(s, digits, [cells[only]]);
            AtomicFile.Write(s.JsonPath!, stream => JsonSerializer.Serialize(stream, results[0], RawJson));
            return 0;
        }
        results = s.Workers > 1 && cells.Count > 1 && WorkerCommand() is { } command
            ? RunInWorkers(s, cells, command)
            : RunCells(s, digits, cells);
        var byKey = results.ToDictionary(r => r.Key);
        results = cells.Select(k => byKey.TryGetValue(k, out var r) ? r : throw new InvalidOperationException($"Cell {k} has no result.")).ToList();

        PackageClaimResult? claim = s.PackageClaim ? PackageClaim.Run(s.Quick, Console.WriteLine) : null;
        var figures = new StudyFigures(s, results, claim, total.Elapsed.TotalSeconds);
        var charts = StudyCharts.Save(figures);
        StudyReport.Print(figures);
        foreach (var chart in charts) Console.WriteLine($"chart: {chart}");
        if (s.JsonPath is not null)
        {
            FiguresJson.Write(s.JsonPath, figures.ToJson(charts));
            Console.WriteLine($"figures: {Path.GetFullPath(s.JsonPath)}");
        }
        return 0;
    }

    private static List<CellResult> RunCells(StudySettings s, MnistDigits digits, IReadOnlyList<CellKey> cells)
    {
        var (train, test) = digits.SplitPerClass(s.Seed);
        using var data = NewDisposeScope();
        var (trainX, trainY) = FlatDigits.ToTensors(train);
        var (testX, testY) = FlatDigits.ToTensors(test, s.EvalExamples);
        // Thread count is process-wide torch state: restore it so an in-process caller (a test host) is unaffected.
        int threads = torch.get_num_threads();
        torch.set_num_threads(s.Threads);
        try
        {
            var results = new List<CellResult>();
            foreach (var key in cells)
            {
                var r = CellTrainer.Train(key, s, trainX, trainY, testX, testY, Console.WriteLine);
                results.Add(r);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"cell {key.Connection,-18} depth {key.Depth,4} lr {G(key.LearningRate),-6}: final loss {r.FinalLoss:F4}, " +
                    $"to {G(s.TargetLoss)} in {r.StepsToTarget(s.TargetLoss)?.ToString(CultureInfo.InvariantCulture) ?? "-"} steps, spikes {r.Spikes}, " +
                    $"diverged {r.Diverged}, max gain fwd {G(r.MaxForwardGain)} bwd {G(r.MaxBackwardGain)}, test acc {100 * r.TestAccuracy:F1} %, " +
                    $"{r.StepMilliseconds:F1} ms/step, {r.Seconds:F0} s"));
                foreach (var line in r.EpochLog) Console.WriteLine($"    {line}");
            }
            return results;
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    // Each cell runs in a process of its own (this program again with --cell K), at most Workers at a time, the most
    // expensive first so that the last ones to finish are short. Processes share no torch or GC state, and every cell
    // seeds its own weights and batches, so the results are the same as in one process.
    private static List<CellResult> RunInWorkers(StudySettings s, IReadOnlyList<CellKey> cells, (string File, string[] Prefix) command)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"depth-study-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var queue = new Queue<int>(Enumerable.Range(0, cells.Count).OrderByDescending(i => Cost(cells[i])));
            var running = new List<(Process Process, int Cell)>();
            var failed = new List<string>();
            while (queue.Count > 0 || running.Count > 0)
            {
                while (running.Count < s.Workers && queue.Count > 0)
                {
                    int cell = queue.Dequeue();
                    var info = new ProcessStartInfo(command.File) { UseShellExecute = false };
                    foreach (var a in command.Prefix) info.ArgumentList.Add(a);
                    foreach (var a in s.CellArguments(cell, Path.Combine(folder, $"cell{cell}.json"))) info.ArgumentList.Add(a);
                    running.Add((Process.Start(info) ?? throw new InvalidOperationException($"Could not start the worker of cell {cell}."), cell));
                }
                var done = running.FirstOrDefault(r => r.Process.HasExited);
                if (done.Process is null)
                {
                    Thread.Sleep(200);
                    continue;
                }
                running.Remove(done);
                if (done.Process.ExitCode != 0) failed.Add($"{cells[done.Cell]} (exit {done.Process.ExitCode})");
                done.Process.Dispose();
            }
            if (failed.Count > 0) throw new InvalidOperationException($"Worker(s) failed: {string.Join(", ", failed)}; see their output above.");
            return Enumerable.Range(0, cells.Count)
                .Select(i => JsonSerializer.Deserialize<CellResult>(File.ReadAllText(Path.Combine(folder, $"cell{i}.json")), RawJson)!)
                .ToList();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // Relative cost of a cell: blocks times the measured per-block step time of its connection (residual = 1).
    private static double Cost(CellKey c) => c.Depth * (c.Connection switch
    {
        "residual" => 1.0,
        "history" or "history-stable" or "history-aggressive" or "history-research" => 1.5,
        "hc" => 3.0,
        _ => 6.0,
    });

    // How to start this program again: its apphost, or `dotnet DepthStudy.dll`. Null when the study runs inside
    // another host (a test), which then runs the cells in-process.
    private static (string, string[])? WorkerCommand()
    {
        var entry = Assembly.GetEntryAssembly();
        if (entry is null || entry != typeof(Study).Assembly || Environment.ProcessPath is not { } host) return null;
        return Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (host, [entry.Location])
            : (host, []);
    }

    internal static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
