namespace Mhc.Samples.Data;

/// <summary>
/// Zalando's Fashion-MNIST (MIT): the official 60,000 training and 10,000 test 28x28 grayscale
/// images of 10 clothing classes, read from the IDX files of Debian's <c>dataset-fashion-mnist</c>.
/// Fetched by <c>bash build/get-data.sh fashion-mnist</c>. Pixels are scaled from 0..255 to 0..1.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>Data-set folder and <c>get-data.sh</c> target.</summary>
    public const string DatasetName = "fashion-mnist";

    /// <summary>Image side in pixels.</summary>
    public const int Side = 28;

    /// <summary>Class names, index = label (from the data set's README).</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    private FashionMnist(IReadOnlyList<ImageExample> train, IReadOnlyList<ImageExample> test)
    {
        Train = train;
        Test = test;
    }

    /// <summary>The official training split (60,000 images in the real data).</summary>
    public IReadOnlyList<ImageExample> Train { get; }

    /// <summary>The official test split (10,000 images in the real data).</summary>
    public IReadOnlyList<ImageExample> Test { get; }

    /// <summary>Loads both splits from <paramref name="directory"/> (default: <c>&lt;data&gt;/fashion-mnist</c>).</summary>
    /// <param name="directory">Folder with the four IDX files (each may be gzipped or raw).</param>
    public static FashionMnist Load(string? directory = null)
    {
        string[] required =
        [
            Alternatives("train-images-idx3-ubyte"), Alternatives("train-labels-idx1-ubyte"),
            Alternatives("t10k-images-idx3-ubyte"), Alternatives("t10k-labels-idx1-ubyte"),
        ];
        directory ??= DataPaths.Require(DatasetName, null, required);
        var missing = required.Where(spec => FindFile(directory, spec) is null).ToList();
        if (missing.Count > 0)
        {
            throw new DataMissingException(DatasetName, directory, missing);
        }

        var train = LoadSplit(FindFile(directory, required[0])!, FindFile(directory, required[1])!);
        var test = LoadSplit(FindFile(directory, required[2])!, FindFile(directory, required[3])!);
        return new FashionMnist(train, test);
    }

    /// <summary>Reads one image file and its label file into labelled images scaled to 0..1.</summary>
    /// <param name="imagesPath">IDX images, shape [n, 28, 28].</param>
    /// <param name="labelsPath">IDX labels, shape [n], values 0..9.</param>
    public static IReadOnlyList<ImageExample> LoadSplit(string imagesPath, string labelsPath)
    {
        var images = IdxReader.Read(imagesPath);
        var labels = IdxReader.Read(labelsPath);
        if (images.Shape.Length != 3 || images.Shape[1] != Side || images.Shape[2] != Side)
        {
            throw new InvalidDataException(
                $"{imagesPath}: expected images of shape [n, {Side}, {Side}], found [{string.Join(", ", images.Shape)}].");
        }

        if (labels.Shape.Length != 1 || labels.Count != images.Count)
        {
            throw new InvalidDataException(
                $"{labelsPath}: expected labels of shape [{images.Count}] to match {imagesPath}, found [{string.Join(", ", labels.Shape)}].");
        }

        int size = images.ItemSize;
        var result = new ImageExample[images.Count];
        for (int i = 0; i < result.Length; i++)
        {
            int label = labels.Data[i];
            if (label >= ClassNames.Count)
            {
                throw new InvalidDataException($"{labelsPath}: label {i} is {label}; expected 0..{ClassNames.Count - 1}.");
            }

            var pixels = new float[size];
            var source = images.Data.AsSpan(i * size, size);
            for (int p = 0; p < size; p++)
            {
                pixels[p] = source[p] / 255f;
            }

            result[i] = new ImageExample(pixels, label);
        }

        return result;
    }

    private static string Alternatives(string baseName) => $"{baseName}.gz|{baseName}";

    private static string? FindFile(string directory, string alternatives) =>
        alternatives.Split('|').Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists);
}
