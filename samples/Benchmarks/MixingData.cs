using Mhc.Samples.Data;
using Microsoft.ML.Mhc.TextGeneration;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>The real data the mixing benchmark feeds its networks: MNIST digits and Pride and Prejudice.</summary>
public sealed class MixingData
{
    private readonly IReadOnlyList<ImageExample> digits;
    private readonly int[] text;

    private MixingData(IReadOnlyList<ImageExample> digits, string book)
    {
        this.digits = digits;
        Vocabulary = CharacterVocabulary.Build(book);
        text = Vocabulary.Encode(book);
    }

    /// <summary>The character vocabulary of the book.</summary>
    public CharacterVocabulary Vocabulary { get; }

    /// <summary>Number of distinct characters.</summary>
    public int VocabularySize => Vocabulary.Count;

    /// <summary>Loads the data (<c>bash build/get-data.sh mnist austen</c> fetches it).</summary>
    /// <exception cref="DataMissingException">A data set is not there.</exception>
    public static MixingData Load() => new(MnistDigits.Load().Examples, JaneAusten.LoadBook("prideprejudice"));

    /// <summary>
    /// <paramref name="count"/> digits spread over the classes, as images (B, 1, 28, 28) or pixel rows (B, 784)
    /// in [0, 1], with their labels.
    /// </summary>
    public (Tensor Input, Tensor Target) Digits(int count, bool image)
    {
        var pixels = new float[count * MnistDigits.PixelCount];
        var labels = new long[count];
        int stride = Math.Max(1, digits.Count / count);
        for (int i = 0; i < count; i++)
        {
            var example = digits[i * stride % digits.Count];
            for (int p = 0; p < MnistDigits.PixelCount; p++) pixels[i * MnistDigits.PixelCount + p] = example.Pixels[p];
            labels[i] = example.Label;
        }
        long[] shape = image ? [count, 1, MnistDigits.Side, MnistDigits.Side] : [count, MnistDigits.PixelCount];
        return (tensor(pixels, shape), tensor(labels));
    }

    /// <summary><paramref name="count"/> windows of <paramref name="context"/> characters (B, T) and the next characters (B, T).</summary>
    public (Tensor Input, Tensor Target) Windows(int count, int context)
    {
        var ids = new long[count * context];
        var next = new long[count * context];
        int stride = Math.Max(1, (text.Length - context - 1) / count);
        for (int w = 0; w < count; w++)
            for (int t = 0; t < context; t++)
            {
                ids[w * context + t] = text[w * stride + t];
                next[w * context + t] = text[w * stride + t + 1];
            }
        return (tensor(ids, [count, context]), tensor(next, [count, context]));
    }

    /// <summary>The ids of <paramref name="prompt"/>'s characters.</summary>
    public int[] Encode(string prompt) => Vocabulary.Encode(prompt);
}
