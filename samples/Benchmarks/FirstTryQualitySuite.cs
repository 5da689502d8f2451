using System.Diagnostics;
using Mhc.Samples.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;

namespace Benchmarks;

/// <summary>
/// What a new user gets on a small data set without tuning: <c>MhcImage</c> with only the required options (label,
/// feature column, image size) against plain ML.NET <c>SdcaMaximumEntropy</c>, both trained on the same 480 real MNIST
/// digits (48 per class) and scored on 1,000 other digits (100 per class).
/// </summary>
public sealed class FirstTryQualitySuite : IBenchmarkSuite
{
    /// <inheritdoc />
    public string Name => "first-try";

    /// <inheritdoc />
    public string Description => "MhcImage with only the required options vs SdcaMaximumEntropy on 480 MNIST digits";

    /// <summary>One digit as a user's input class.</summary>
    public sealed class Digit
    {
        /// <summary>28 x 28 pixels, 0..1.</summary>
        [VectorType(MnistDigits.PixelCount)]
        public float[] Pixels { get; set; } = [];

        /// <summary>The digit as text.</summary>
        public string Label { get; set; } = "";
    }

    /// <summary>Seeded per-class split: <paramref name="trainPerClass"/> training and <paramref name="testPerClass"/> test digits of each class.</summary>
    public static (List<Digit> Train, List<Digit> Test) Split(MnistDigits digits, int trainPerClass, int testPerClass, int seed = 1)
    {
        var random = new Random(seed);
        var train = new List<Digit>();
        var test = new List<Digit>();
        foreach (var group in digits.Examples.GroupBy(e => e.Label).OrderBy(g => g.Key))
        {
            var shuffled = group.OrderBy(_ => random.Next()).ToList();
            if (shuffled.Count < trainPerClass + testPerClass)
                throw new InvalidOperationException($"Digit {group.Key} has {shuffled.Count} examples; {trainPerClass + testPerClass} are needed.");
            train.AddRange(shuffled.Take(trainPerClass).Select(ToDigit));
            test.AddRange(shuffled.Skip(trainPerClass).Take(testPerClass).Select(ToDigit));
        }
        return (train, test);
    }

    private static Digit ToDigit(ImageExample e) => new() { Pixels = e.Pixels, Label = e.Label.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <inheritdoc />
    public void Run(BenchmarkRun run)
    {
        int trainPerClass = run.Quick ? 6 : 48, testPerClass = run.Quick ? 6 : 100;
        var (trainRows, testRows) = Split(MnistDigits.Load(), trainPerClass, testPerClass);
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(trainRows);
        var test = ml.Data.LoadFromEnumerable(testRows);

        var sdca = Measure(ml, train, test, ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Pixels")));

        // Only what the trainer cannot guess: the columns and the image size (28 x 28 x 1 are also the defaults).
        var options = new MhcImageClassificationTrainer.Options
        {
            LabelColumnName = "Label", FeatureColumnName = "Pixels", ImageHeight = 28, ImageWidth = 28, Channels = 1,
        };
        if (run.Quick) options.MaxEpochs = 1;   // smoke run only: the figures are then not meaningful
        MhcImageClassificationTransformer? trained = null;
        var mhc = Measure(ml, train, test, ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.MhcImage(options)), model => trained = ((IEnumerable<ITransformer>)model).OfType<MhcImageClassificationTransformer>().Single());

        var epochs = trained!.TrainingHistory.Epochs.Count;
        run.Log($"{trainRows.Count} training digits, {testRows.Count} test digits");
        run.Log($"SdcaMaximumEntropy: accuracy {sdca.Accuracy:P2}, macro {sdca.Macro:P2}, {sdca.Seconds:F1} s");
        run.Log($"MhcImage (defaults): accuracy {mhc.Accuracy:P2}, macro {mhc.Macro:P2}, {mhc.Seconds:F1} s, {epochs} epochs");
        run.Add("first_try_train_digits", trainRows.Count);
        run.Add("first_try_test_digits", testRows.Count);
        run.Add("first_try_sdca_accuracy", sdca.Accuracy);
        run.Add("first_try_sdca_seconds", sdca.Seconds);
        run.Add("first_try_mhc_accuracy", mhc.Accuracy);
        run.Add("first_try_mhc_seconds", mhc.Seconds);
        run.Add("first_try_mhc_epochs", epochs);
        trained.Dispose();
    }

    private static (double Accuracy, double Macro, double Seconds) Measure(MLContext ml, IDataView train, IDataView test,
        IEstimator<ITransformer> pipeline, Action<ITransformer>? inspect = null)
    {
        var watch = Stopwatch.StartNew();
        var model = pipeline.Fit(train);
        double seconds = watch.Elapsed.TotalSeconds;
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        inspect?.Invoke(model);
        return (metrics.MicroAccuracy, metrics.MacroAccuracy, seconds);
    }
}
