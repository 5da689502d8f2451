namespace Mhc.Samples.Data;

/// <summary>
/// Jane Austen's six completed novels from the CRAN package <c>janeaustenr</c> (MIT; Project
/// Gutenberg text), read straight from its R lazy-load database <c>data/Rdata.rdb</c>/<c>.rdx</c>
/// with <see cref="RLazyLoadDatabase"/>, so R is never needed. Each book is a character vector with
/// one element per printed line. Fetched by <c>bash build/get-data.sh austen</c>.
/// </summary>
public static class JaneAusten
{
    /// <summary>Data-set folder and <c>get-data.sh</c> target.</summary>
    public const string DatasetName = "austen";

    /// <summary>Separator placed between books when several are concatenated.</summary>
    public const string BookSeparator = "\n\n";

    /// <summary>The object names of the six books in <c>janeaustenr</c>.</summary>
    public static IReadOnlyList<string> BookNames { get; } =
    [
        "prideprejudice", "northangerabbey", "emma", "mansfieldpark", "persuasion", "sensesensibility",
    ];

    /// <summary>Opens the lazy-load database in <paramref name="directory"/> (default: <c>&lt;data&gt;/austen</c>).</summary>
    /// <param name="directory">Folder with <c>Rdata.rdb</c> and <c>Rdata.rdx</c>.</param>
    public static RLazyLoadDatabase OpenDatabase(string? directory = null)
    {
        directory ??= DataPaths.Require(DatasetName, null, "Rdata.rdx", "Rdata.rdb");
        var missing = new[] { "Rdata.rdx", "Rdata.rdb" }.Where(f => !File.Exists(Path.Combine(directory, f))).ToList();
        if (missing.Count > 0)
        {
            throw new DataMissingException(DatasetName, directory, missing);
        }

        return RLazyLoadDatabase.Open(Path.Combine(directory, "Rdata.rdx"), Path.Combine(directory, "Rdata.rdb"));
    }

    /// <summary>Loads one book as a single string, its lines joined with <c>'\n'</c>.</summary>
    /// <param name="name">One of <see cref="BookNames"/>, e.g. <c>prideprejudice</c>.</param>
    /// <param name="directory">Folder with the database; null = <c>&lt;data&gt;/austen</c>.</param>
    public static string LoadBook(string name, string? directory = null) => LoadBook(OpenDatabase(directory), name);

    /// <summary>Loads one book from an open database as a single string, lines joined with <c>'\n'</c>.</summary>
    /// <param name="database">The opened <c>janeaustenr</c> database.</param>
    /// <param name="name">The book's object name.</param>
    public static string LoadBook(RLazyLoadDatabase database, string name)
    {
        ArgumentNullException.ThrowIfNull(database);
        var value = database.Load(name);
        if (value is not RCharacterVector lines)
        {
            throw new InvalidDataException(
                $"{database.RdbPath}: '{name}' is a {value.GetType().Name}; expected a character vector of lines.");
        }

        for (int i = 0; i < lines.Values.Count; i++)
        {
            if (lines.Values[i] is null)
            {
                throw new InvalidDataException($"{database.RdbPath}: line {i + 1} of '{name}' is NA; expected text.");
            }
        }

        return string.Join('\n', lines.Values);
    }

    /// <summary>
    /// Loads <paramref name="books"/> and splits each by position: its first
    /// <paramref name="trainFraction"/> of characters go to train, the rest to validation. Per-book
    /// splitting keeps every book represented in validation (with one cut over the concatenation,
    /// the validation text would be the end of the last book only). See <see cref="SplitByPosition"/>.
    /// </summary>
    /// <param name="books">Book names, e.g. <c>["prideprejudice", "northangerabbey"]</c>.</param>
    /// <param name="trainFraction">Share of each book used for training, in (0, 1).</param>
    /// <param name="directory">Folder with the database; null = <c>&lt;data&gt;/austen</c>.</param>
    public static (string Train, string Validation) TrainValidation(
        IEnumerable<string> books, double trainFraction = 0.9, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(books);
        var database = OpenDatabase(directory);
        var texts = books.Select(b => LoadBook(database, b)).ToList();
        return SplitByPosition(texts, trainFraction);
    }

    /// <summary>
    /// Splits each text at character <c>round(length * trainFraction)</c>; the heads joined with
    /// <see cref="BookSeparator"/> are the training text, the tails (same separator) the validation text.
    /// </summary>
    /// <param name="texts">The texts (e.g. whole books), at least one.</param>
    /// <param name="trainFraction">Share of each text used for training, in (0, 1).</param>
    public static (string Train, string Validation) SplitByPosition(IReadOnlyList<string> texts, double trainFraction = 0.9)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw new ArgumentException("At least one text is needed.", nameof(texts));
        }

        if (!(trainFraction > 0 && trainFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "trainFraction must be strictly between 0 and 1.");
        }

        var train = new List<string>(texts.Count);
        var validation = new List<string>(texts.Count);
        foreach (var text in texts)
        {
            int cut = (int)Math.Round(text.Length * trainFraction, MidpointRounding.AwayFromZero);
            if (cut > 0 && cut < text.Length && char.IsHighSurrogate(text[cut - 1]))
            {
                cut++; // Never split a surrogate pair.
            }

            train.Add(text[..cut]);
            validation.Add(text[cut..]);
        }

        return (string.Join(BookSeparator, train), string.Join(BookSeparator, validation));
    }
}
