using System.Globalization;
using System.Text.Json;

namespace OnnxServingSample;

/// <summary>
/// Serves the mHC classifier the ImageClassification sample exported: scores the MNIST test digits with ML.NET's
/// ApplyOnnxModel on ONNX Runtime (no libtorch) and prints the accuracy next to the TorchSharp model's.
/// </summary>
/// <remarks>
/// Order: 1. <c>dotnet run --project samples/ImageClassification -c Release -- --onnx out/mnist.onnx</c>;
/// 2. <c>dotnet run --project samples/OnnxServing -c Release -- --model out/mnist.onnx [--json FILE]</c>.
/// <c>--serving-publish DIR</c> and <c>--training-publish DIR</c> add the sizes of the two samples' <c>dotnet publish</c>
/// folders (see publish-sizes.sh). With <c>--generate PROMPT</c> the model is an exported text-generation model and the
/// sample generates a continuation token by token (<see cref="OnnxTextGenerator"/>): <c>--tokens N</c> (default 200),
/// <c>--temperature T</c> (default 0, greedy), <c>--seed S</c>.
/// </remarks>
public static class Program
{
    private const string Usage =
        "usage: OnnxServing --model PATH.onnx [--reference PATH.onnx.torch.json] [--json FILE] [--serving-publish DIR] [--training-publish DIR]\n" +
        "       OnnxServing --model TEXT.onnx --generate PROMPT [--tokens N] [--temperature T] [--seed S]";

    /// <summary>Runs the sample: 0 ok, 2 bad arguments, 3 model, reference or data missing.</summary>
    public static int Main(string[] args)
    {
        Dictionary<string, string> options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (options.ContainsKey("help")) { Console.WriteLine(Usage); return 0; }
        if (!options.TryGetValue("model", out var model)) { Console.Error.WriteLine(Usage); return 2; }
        model = Path.GetFullPath(model);
        try
        {
            if (options.TryGetValue("generate", out var prompt))
            {
                if (!File.Exists(model)) throw new FileNotFoundException($"No ONNX model at {model}; export a text-generation model with ml.Model.ExportToOnnx first.");
                return Generate(model, prompt, options);
            }
            if (!File.Exists(model)) throw new FileNotFoundException($"No ONNX model at {model}; run the ImageClassification sample with --onnx {model} first.");
            var reference = TorchReference.Read(options.GetValueOrDefault("reference") ?? model + ".torch.json");
            var figures = ServingRun.Score(model, reference);
            figures["serving_publish_mb"] = options.TryGetValue("serving-publish", out var serving) ? Megabytes(serving) : null;
            figures["training_publish_mb"] = options.TryGetValue("training-publish", out var training) ? Megabytes(training) : null;
            Print(figures);
            if (options.TryGetValue("json", out var json))
            {
                File.WriteAllText(json, JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }));
                Console.WriteLine($"figures: {Path.GetFullPath(json)}");
            }
            return 0;
        }
        catch (Exception e) when (e is FileNotFoundException or Mhc.Samples.Data.DataMissingException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine(e.Message);
            return 3;
        }
    }

    private static int Generate(string model, string prompt, Dictionary<string, string> options)
    {
        int Int(string key, int fallback) => options.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        double temperature = options.TryGetValue("temperature", out var t) ? double.Parse(t, CultureInfo.InvariantCulture) : 0;
        using var generator = new OnnxTextGenerator(model);
        var random = options.ContainsKey("seed") ? new Random(Int("seed", 0)) : new Random();
        try
        {
            generator.Encode(prompt);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        Console.Write(prompt);
        foreach (var piece in generator.Generate(prompt, Int("tokens", 200), temperature, random)) Console.Write(piece);
        Console.WriteLine();
        return 0;
    }

    private static void Print(Dictionary<string, object?> f)
    {
        string F(string key, string format) => f[key] is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";
        Console.WriteLine($"MNIST test digits: {f["test_count"]}");
        Console.WriteLine($"accuracy      ONNX Runtime (ApplyOnnxModel) {F("onnx_accuracy", "P2")}   TorchSharp {F("torch_accuracy", "P2")}");
        Console.WriteLine($"rows/second   ONNX Runtime via ApplyOnnxModel (one row per run, 1 thread) {F("onnx_rows_per_second", "F0")}, " +
            $"in batches of 32 (1 thread) {F("onnx_batched_rows_per_second", "F0")}   TorchSharp transformer (batched) {F("torch_rows_per_second", "F0")}");
        Console.WriteLine($"max |probability difference| {F("max_abs_diff", "E2")}");
        Console.WriteLine($"publish size  serving {F("serving_publish_mb", "F1")} MB   training {F("training_publish_mb", "F1")} MB");
    }

    private static double Megabytes(string directory)
    {
        var dir = new DirectoryInfo(directory);
        if (!dir.Exists) throw new DirectoryNotFoundException($"No publish folder at {dir.FullName}.");
        return dir.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) / (1024.0 * 1024.0);
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        string[] known = ["model", "reference", "json", "serving-publish", "training-publish", "generate", "tokens", "temperature", "seed"];
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            var name = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            if (name == "help") { options[name] = ""; continue; }
            if (!known.Contains(name)) throw new ArgumentException($"Unknown option --{name}.");
            if (i + 1 >= args.Length) throw new ArgumentException($"--{name} needs a value.");
            options[name] = args[++i];
        }
        return options;
    }
}
