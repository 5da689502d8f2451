namespace Mhc.Samples.Data;

/// <summary>
/// Builds the M2NIST-style multi-digit segmentation task from real MNIST digits: 64x64 canvases
/// holding 1-3 digits whose tight bounding boxes (rows/columns with any ink) do not overlap.
/// <para>Label convention (11 classes): a pixel is <c>digit + 1</c> (1..10 for digits 0..9) where the
/// pasted digit's intensity is at least <see cref="InkThreshold"/> (0.5), and <see cref="Background"/>
/// (0) everywhere else, including faint anti-aliased edges.</para>
/// <para>Train and test canvases must come from disjoint digit sets:
/// <see cref="GenerateTrainTest"/> splits the digits with <see cref="MnistDigits.SplitPerClass(int, double)"/>
/// first. Generation is deterministic for a given seed.</para>
/// </summary>
public static class M2NistCanvases
{
    /// <summary>Canvas side in pixels.</summary>
    public const int Side = 64;

    /// <summary>Number of mask classes: background + 10 digits.</summary>
    public const int ClassCount = 11;

    /// <summary>Mask value of background pixels.</summary>
    public const int Background = 0;

    /// <summary>Minimum intensity for a pixel to be labelled as its digit.</summary>
    public const float InkThreshold = 0.5f;

    /// <summary>Fewest digits on a canvas.</summary>
    public const int MinDigits = 1;

    /// <summary>Most digits on a canvas.</summary>
    public const int MaxDigits = 3;

    private const int DigitSide = MnistDigits.Side;
    private const int PlacementAttempts = 200;

    /// <summary>The mask label of digit <paramref name="digit"/> (0..9 -> 1..10).</summary>
    /// <param name="digit">The digit class.</param>
    public static int LabelOfDigit(int digit) => digit + 1;

    /// <summary>
    /// Generates <paramref name="count"/> canvases from <paramref name="digits"/> (28x28, pixels 0..1).
    /// Each canvas gets a uniform 1..3 digits drawn with replacement, pasted at uniformly random
    /// non-overlapping positions.
    /// </summary>
    /// <param name="digits">Source digits; use a split that the other set does not share.</param>
    /// <param name="count">Number of canvases.</param>
    /// <param name="seed">Seed; the same inputs and seed give the same canvases.</param>
    public static IReadOnlyList<SegmentationCanvas> Generate(IReadOnlyList<ImageExample> digits, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(digits);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (digits.Count == 0)
        {
            throw new ArgumentException("At least one source digit is needed.", nameof(digits));
        }

        var crops = new DigitCrop[digits.Count];
        for (int i = 0; i < digits.Count; i++)
        {
            crops[i] = Crop(digits[i], i);
        }

        var random = new Random(seed);
        var canvases = new List<SegmentationCanvas>(count);
        while (canvases.Count < count)
        {
            int wanted = random.Next(MinDigits, MaxDigits + 1);
            var canvas = TryCompose(crops, wanted, random);
            if (canvas is not null)
            {
                canvases.Add(canvas);
            }
        }

        return canvases;
    }

    /// <summary>
    /// Splits <paramref name="mnist"/> per class (80/20 by default) and generates training canvases
    /// from the train digits and test canvases from the held-out digits, so no digit image is shared.
    /// </summary>
    /// <param name="mnist">The loaded digits.</param>
    /// <param name="trainCount">Training canvases.</param>
    /// <param name="testCount">Test canvases.</param>
    /// <param name="seed">Seed for the split and both generators.</param>
    /// <param name="trainFraction">Share of each class's digits reserved for training canvases.</param>
    public static (IReadOnlyList<SegmentationCanvas> Train, IReadOnlyList<SegmentationCanvas> Test) GenerateTrainTest(
        MnistDigits mnist, int trainCount, int testCount, int seed, double trainFraction = 0.8)
    {
        ArgumentNullException.ThrowIfNull(mnist);
        var (trainDigits, testDigits) = mnist.SplitPerClass(seed, trainFraction);
        return (Generate(trainDigits, trainCount, seed), Generate(testDigits, testCount, unchecked(seed * 31 + 17)));
    }

    private static SegmentationCanvas? TryCompose(DigitCrop[] crops, int wanted, Random random)
    {
        var placements = new List<DigitPlacement>(wanted);
        var chosen = new List<DigitCrop>(wanted);
        for (int d = 0; d < wanted; d++)
        {
            var crop = crops[random.Next(crops.Length)];
            DigitPlacement? placed = null;
            for (int attempt = 0; attempt < PlacementAttempts && placed is null; attempt++)
            {
                var candidate = new DigitPlacement(
                    crop.Label, random.Next(Side - crop.Width + 1), random.Next(Side - crop.Height + 1), crop.Width, crop.Height);
                if (!placements.Any(p => p.Overlaps(candidate)))
                {
                    placed = candidate;
                }
            }

            if (placed is null)
            {
                return null; // Crowded: start this canvas over with fresh draws.
            }

            placements.Add(placed);
            chosen.Add(crop);
        }

        var image = new float[Side * Side];
        var mask = new int[Side * Side];
        for (int d = 0; d < placements.Count; d++)
        {
            var p = placements[d];
            var crop = chosen[d];
            int label = LabelOfDigit(p.Digit);
            for (int y = 0; y < p.Height; y++)
            {
                for (int x = 0; x < p.Width; x++)
                {
                    float v = crop.Pixels[(crop.Top + y) * DigitSide + crop.Left + x];
                    int at = (p.Y + y) * Side + p.X + x;
                    image[at] = v;
                    mask[at] = v >= InkThreshold ? label : Background;
                }
            }
        }

        return new SegmentationCanvas(image, mask, placements);
    }

    private static DigitCrop Crop(ImageExample digit, int index)
    {
        if (digit.Pixels.Length != DigitSide * DigitSide)
        {
            throw new ArgumentException(
                $"Digit {index} has {digit.Pixels.Length} pixels; expected {DigitSide * DigitSide} (28x28).", nameof(digit));
        }

        if (digit.Label is < 0 or > 9)
        {
            throw new ArgumentException($"Digit {index} has label {digit.Label}; expected 0..9.", nameof(digit));
        }

        int top = DigitSide, bottom = -1, left = DigitSide, right = -1;
        for (int y = 0; y < DigitSide; y++)
        {
            for (int x = 0; x < DigitSide; x++)
            {
                if (digit.Pixels[y * DigitSide + x] > 0f)
                {
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y);
                    left = Math.Min(left, x);
                    right = Math.Max(right, x);
                }
            }
        }

        if (bottom < 0)
        {
            throw new ArgumentException($"Digit {index} (label {digit.Label}) is blank; it cannot be placed on a canvas.", nameof(digit));
        }

        return new DigitCrop(digit.Pixels, digit.Label, top, left, right - left + 1, bottom - top + 1);
    }

    private sealed record DigitCrop(float[] Pixels, int Label, int Top, int Left, int Width, int Height);
}
